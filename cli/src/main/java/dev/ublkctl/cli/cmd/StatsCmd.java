package dev.ublkctl.cli.cmd;

import dev.ublkctl.daemon.StatsView;
import dev.ublkctl.cli.common.CliException;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.DeviceId;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.cli.common.Durations;
import dev.ublkctl.cli.common.Sizes;
import dev.ublkctl.cli.common.Table;
import dev.ublkctl.daemon.DaemonClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "stats",
        description = {"Show a device's per-queue counters.",
                "I/Os and bytes by op, handled in BPF vs redirected to the Java target vs split, errors, "
                        + "in flight, latency percentiles, BPF runs and run time."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl stats -n 0", "  ublkctl stats -n 0 --watch 1", "  ublkctl stats -n 0 --json"})
public final class StatsCmd extends Cmd {
    @Mixin DeviceId dev;

    @Option(names = {"-w", "--watch"}, paramLabel = "SECS",
            description = "Print again every SECS seconds until Ctrl-C (with --json: one object per line).")
    Double watch;

    @Override
    protected int run() throws InterruptedException {
        if (watch != null && !(watch > 0)) throw CliException.usage("--watch must be > 0 seconds");
        try (DaemonClient c = connect()) {
            StatsView prev = null;
            while (true) {
                StatsView s = c.stats(dev.id);
                if (json()) printJson(s);
                else {
                    if (watch != null) out().println(style().dim("--- device " + dev.id + " at " + java.time.LocalTime.now().withNano(0)));
                    print(s, prev);
                }
                if (watch == null) return ExitCode.OK;
                prev = s;
                Thread.sleep((long) (watch * 1000));
            }
        }
    }

    /** One row per queue and a total; with a previous snapshot, IOPS and MB/s between the two. */
    private void print(StatsView s, StatsView prev) {
        boolean rates = prev != null;
        java.util.List<String> h = new java.util.ArrayList<>(java.util.List.of("QUEUE", "IOS", "READS", "WRITES", "BYTES"));
        if (rates) { h.add("IOPS"); h.add("MB/S"); }
        h.addAll(java.util.List.of("BPF", "REDIRECT", "SPLIT", "ERRORS", "INFLIGHT", "P50", "P99", "MAX", "PROG RUNS", "PROG TIME"));
        Table t = new Table(h.toArray(String[]::new));
        for (int i = 1; i < h.size(); i++) t.right(i);
        double secs = rates ? (s.takenNanos() - prev.takenNanos()) / 1e9 : 0;
        java.util.List<StatsView.Queue> rows = new java.util.ArrayList<>(s.queues());
        rows.add(s.total());
        for (int i = 0; i < rows.size(); i++) {
            StatsView.Queue q = rows.get(i);
            boolean total = i == rows.size() - 1;
            java.util.List<Object> r = new java.util.ArrayList<>();
            r.add(total ? "total" : Integer.toString(q.queue()));
            r.add(q.ios());
            r.add(q.reads());
            r.add(q.writes());
            r.add(Sizes.format(q.bytes()));
            if (rates) {
                StatsView.Queue p = total ? prev.total() : i < prev.queues().size() ? prev.queues().get(i) : q;
                double dios = q.ios() - p.ios();
                double dbytes = q.bytes() - p.bytes();
                r.add(secs > 0 ? String.format(java.util.Locale.ROOT, "%.0f", dios / secs) : "-");
                r.add(secs > 0 ? String.format(java.util.Locale.ROOT, "%.1f", dbytes / secs / 1e6) : "-");
            }
            r.add(q.bpfHandled());
            r.add(q.redirected());
            r.add(q.splitParts());
            r.add(q.errors());
            r.add(q.inFlight());
            StatsView.Latency l = q.latency();
            boolean any = l.count() > 0;
            r.add(any ? Durations.ns(l.p50Ns()) : "-");
            r.add(any ? Durations.ns(l.p99Ns()) : "-");
            r.add(any ? Durations.ns(l.maxNs()) : "-");
            r.add(q.progRuns());
            r.add(q.progRuns() > 0 ? Durations.ns(q.progRunNanos()) : "-");
            t.row(r.toArray());
        }
        t.print(out(), style());
        StatsView.Mapping m = s.mapping();
        if (m != null) {
            out().println(String.format(java.util.Locale.ROOT, "mapping: %s holds %d of %d clusters; lookups: %d hits, %d misses (%.1f%% hit)",
                    m.map(), m.entries(), m.maxEntries(), m.hits(), m.misses(), 100 * m.hitRatio()));
        }
    }
}
