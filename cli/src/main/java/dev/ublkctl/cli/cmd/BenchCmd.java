package dev.ublkctl.cli.cmd;

import dev.ublkctl.daemon.StatsView;
import dev.ublkctl.daemon.BenchView;
import dev.ublkctl.daemon.BenchRequest;
import dev.ublkctl.cli.common.CliException;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.DeviceId;
import dev.ublkctl.cli.common.Durations;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.cli.common.Sizes;
import dev.ublkctl.daemon.DaemonClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.List;

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

    @Option(names = "--iodepth", paramLabel = "N", defaultValue = "16",
            description = "I/Os in flight per job (1.." + BenchRequest.MAX_IODEPTH + ", default ${DEFAULT-VALUE}).")
    int iodepth;

    @Option(names = "--numjobs", paramLabel = "N", defaultValue = "1",
            description = "Parallel jobs (1.." + BenchRequest.MAX_JOBS + ", default ${DEFAULT-VALUE}).")
    int numjobs;

    @Option(names = "--runtime", paramLabel = "SECS", defaultValue = "3", description = "Seconds to run (default ${DEFAULT-VALUE}).")
    double runtime;

    @Override
    protected int run() {
        BenchRequest req = new BenchRequest(rw, bs, iodepth, numjobs, runtime);
        try {
            req.spec();  // the daemon's check, here before it is asked
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
        Progress pr = new Progress(err(), style());
        try (DaemonClient c = connect()) {
            BenchView r = c.bench(dev.id, req, Duration.ofMillis((long) (runtime * 1000) + 60_000), pr::show);
            pr.done();
            if (json()) printJson(r);
            else summary(r);
            // as fio: a run with failed I/O is a failed run, whatever else it measured
            long errors = r.errors();
            if (errors > 0) {
                note("ublkctl bench: " + errors + " of " + (errors + r.ios()) + " I/Os failed");
                return ExitCode.ERROR;
            }
        }
        return ExitCode.OK;
    }

    private void summary(BenchView r) {
        var o = out();
        var st = style();
        StatsView.Latency l = r.clat();
        o.printf(java.util.Locale.ROOT, "%s: bs=%s iodepth=%d numjobs=%d, ran %.1f s%s%n", st.bold(r.rw()),
                Sizes.format(r.bs()), r.iodepth(), r.numjobs(), r.elapsedSec(), r.cancelled() ? " (cancelled)" : "");
        o.printf(java.util.Locale.ROOT, "  iops: %s  bw: %.1f MB/s  ios: %d (read %d, write %d)%n",
                st.bold(String.format(java.util.Locale.ROOT, "%.0f", r.iops())), r.mbPerSec(), r.ios(), r.readIos(), r.writeIos());
        o.printf("  clat: min %s  mean %s  p50 %s  p99 %s  p99.9 %s  max %s%n",
                Durations.ns(l.minNs()), Durations.ns(l.meanNs()), Durations.ns(l.p50Ns()), Durations.ns(l.p99Ns()),
                Durations.ns(l.p999Ns()), Durations.ns(l.maxNs()));
        o.printf("  in BPF: %d  redirected: %d  split: %d  errors: %s%n", r.bpfHandled(), r.redirected(), r.splitParts(),
                r.errors() == 0 ? "0" : st.red(Long.toString(r.errors())));
        o.flush();
    }
}
