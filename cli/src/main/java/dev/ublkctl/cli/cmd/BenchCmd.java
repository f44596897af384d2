package dev.ublkctl.cli.cmd;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.cli.CliException;
import dev.ublkctl.cli.Cmd;
import dev.ublkctl.cli.DeviceId;
import dev.ublkctl.cli.ExitCode;
import dev.ublkctl.cli.JsonText;
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
            else JsonText.print(out(), style(), r);
        }
        return ExitCode.OK;
    }
}
