package dev.ublkctl.cli.cmd;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.cli.CliException;
import dev.ublkctl.cli.Cmd;
import dev.ublkctl.cli.DeviceId;
import dev.ublkctl.cli.Durations;
import dev.ublkctl.cli.ExitCode;
import dev.ublkctl.cli.Sizes;
import dev.ublkctl.daemon.DaemonClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "bench",
        description = {"Benchmark a device: IOPS, bandwidth, latency.",
                "Runs a workload in the daemon with fio's option names.",
                "Progress goes to stderr; --json prints the summary (with an 'iops' field)."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl bench -n 0", "  ublkctl bench -n 0 --rw randwrite --bs 4k --iodepth 32 --runtime 5",
                "  ublkctl bench -n 0 --rw read --bs 128k --numjobs 2 --json"})
public final class BenchCmd extends Cmd {
    static final class Patterns implements Iterable<String> {
        @Override public java.util.Iterator<String> iterator() {
            return List.of("randread", "randwrite", "read", "write", "randrw").iterator();
        }
    }

    @Mixin DeviceId dev;

    @Option(names = "--rw", paramLabel = "PATTERN", defaultValue = "randread", completionCandidates = Patterns.class,
            description = "randread, randwrite, read, write or randrw (default ${DEFAULT-VALUE}).")
    String rw;

    @Option(names = "--bs", paramLabel = "SIZE", defaultValue = "4k", converter = Sizes.Converter.class,
            description = "I/O size (default ${DEFAULT-VALUE}).")
    long bs;

    @Option(names = "--iodepth", paramLabel = "N", defaultValue = "16", description = "I/Os in flight per job (default ${DEFAULT-VALUE}).")
    int iodepth;

    @Option(names = "--numjobs", paramLabel = "N", defaultValue = "1", description = "Parallel jobs (default ${DEFAULT-VALUE}).")
    int numjobs;

    @Option(names = "--runtime", paramLabel = "SECS", defaultValue = "3", description = "Seconds to run (default ${DEFAULT-VALUE}).")
    double runtime;

    @Override
    protected int run() {
        if (!List.of("randread", "randwrite", "read", "write", "randrw").contains(rw)) {
            throw CliException.usage("unknown --rw '" + rw + "' (randread, randwrite, read, write, randrw)");
        }
        if (bs <= 0 || bs % 512 != 0) throw CliException.usage("--bs must be a positive multiple of 512, not " + bs);
        if (iodepth < 1 || iodepth > 4096) throw CliException.usage("--iodepth must be 1..4096");
        if (numjobs < 1 || numjobs > 64) throw CliException.usage("--numjobs must be 1..64");
        if (!(runtime > 0) || runtime > 86400) throw CliException.usage("--runtime must be > 0 seconds");
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("rw", rw);
        p.put("bs", bs);
        p.put("iodepth", iodepth);
        p.put("numjobs", numjobs);
        p.put("runtime", runtime);
        Progress pr = new Progress(err(), style());
        try (DaemonClient c = connect()) {
            JsonNode r = c.bench(dev.id, p, Duration.ofMillis((long) (runtime * 1000) + 60_000), pr::show);
            pr.done();
            if (json()) printJson(r);
            else summary(r);
            // as fio: a run with failed I/O is a failed run, whatever else it measured
            long errors = r.path("errors").asLong();
            if (errors > 0) {
                note("ublkctl bench: " + errors + " of " + (errors + r.path("ios").asLong()) + " I/Os failed");
                return ExitCode.ERROR;
            }
        }
        return ExitCode.OK;
    }

    private void summary(JsonNode r) {
        var o = out();
        var st = style();
        JsonNode l = r.path("clat");
        o.printf(java.util.Locale.ROOT, "%s: bs=%s iodepth=%d numjobs=%d, ran %.1f s%s%n", st.bold(r.path("rw").asText()),
                Sizes.format(r.path("bs").asLong()), r.path("iodepth").asInt(), r.path("numjobs").asInt(),
                r.path("elapsedSec").asDouble(), r.path("cancelled").asBoolean() ? " (cancelled)" : "");
        o.printf(java.util.Locale.ROOT, "  iops: %s  bw: %.1f MB/s  ios: %d (read %d, write %d)%n",
                st.bold(String.format(java.util.Locale.ROOT, "%.0f", r.path("iops").asDouble())), r.path("mbPerSec").asDouble(),
                r.path("ios").asLong(), r.path("readIos").asLong(), r.path("writeIos").asLong());
        o.printf("  clat: min %s  mean %s  p50 %s  p99 %s  p99.9 %s  max %s%n",
                Durations.ns(l.path("minNs").asLong()), Durations.ns(l.path("meanNs").asLong()),
                Durations.ns(l.path("p50Ns").asLong()), Durations.ns(l.path("p99Ns").asLong()),
                Durations.ns(l.path("p999Ns").asLong()), Durations.ns(l.path("maxNs").asLong()));
        o.printf("  in BPF: %d  redirected: %d  split: %d  errors: %s%n", r.path("bpfHandled").asLong(),
                r.path("redirected").asLong(), r.path("splitParts").asLong(),
                r.path("errors").asLong() == 0 ? "0" : st.red(r.path("errors").asText()));
        o.flush();
    }
}
