package dev.ublkctl.daemon;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The daemon's counters as Prometheus metric families, built from {@code device.statsAll} at each
 * scrape (the engine's counters are already cumulative, so nothing is kept here between scrapes).
 * Label sets are bounded by the devices' shape: per queue the I/O by op (5) and by path (3) and
 * the I/O in flight; per device the rest (bytes, errors by errno, aio, program runs and time, the
 * latency histogram with {@link #LATENCY_BOUNDS}).
 */
public final class FleetMetrics implements MultiCollector {

    /** Histogram upper bounds in seconds, 1 µs .. 10 s (the engine's 1/16-octave buckets are folded into them). */
    static final double[] LATENCY_BOUNDS = {
            1e-6, 2.5e-6, 5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6,
            1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3,
            1, 2.5, 5, 10, Double.POSITIVE_INFINITY};

    /** The {@code path} label: how the program disposed of an I/O. */
    enum Path {
        /** completed by the program (QUEUED) */ BPF("bpf"),
        /** sent to the userspace target (REDIRECT, or no program) */ SERVER("server"),
        /** a CONTINUE piece of a split I/O */ SPLIT("split");
        final String label;
        Path(String label) { this.label = label; }
    }

    private final Supplier<List<StatsView.OfDevice>> source;

    public FleetMetrics(Supplier<List<StatsView.OfDevice>> source) { this.source = source; }

    @Override
    public MetricSnapshots collect() { return snapshots(source.get()); }

    /** The metric families for these devices (pure: the tests call it on answers they make). */
    public static MetricSnapshots snapshots(List<StatsView.OfDevice> devices) {
        var ios = CounterSnapshot.builder().name("ublk_io")
                .help("Completed I/Os by op (read, write, flush, discard, write_zeroes)");
        var bytes = CounterSnapshot.builder().name("ublk_io_bytes").unit(Unit.BYTES)
                .help("Bytes of completed I/Os by op (read, write, other = discard and write-zeroes), per device");
        var paths = CounterSnapshot.builder().name("ublk_io_path")
                .help("I/O dispositions of the BPF program: bpf = completed in BPF (QUEUED), server = sent to the "
                        + "userspace target (REDIRECT), split = CONTINUE pieces");
        var errors = CounterSnapshot.builder().name("ublk_io_errors").help("Failed I/Os by errno, per device");
        var inflight = GaugeSnapshot.builder().name("ublk_io_in_flight").help("I/Os fetched and not yet committed");
        var aio = CounterSnapshot.builder().name("ublk_bpf_aio").help("bpf aio submitted by the program, per device");
        var runs = CounterSnapshot.builder().name("ublk_bpf_program_runs").help("BPF program invocations, per device");
        var runSecs = CounterSnapshot.builder().name("ublk_bpf_program_run_seconds").unit(Unit.SECONDS)
                .help("Time spent running the BPF program, per device");
        var latency = HistogramSnapshot.builder().name("ublk_io_latency_seconds").unit(Unit.SECONDS)
                .help("I/O service time, request fetched to committed");
        var info = InfoSnapshot.builder().name("ublk_device")
                .help("One per device: its target, backend, shape and program");
        var scrapeErrors = GaugeSnapshot.builder().name("ublk_device_stats_error")
                .help("1 when the device's counters could not be read at this scrape");

        for (StatsView.OfDevice d : devices) {
            DeviceRecord r = d.record();
            String dev = Integer.toString(r.id());
            info.dataPoint(InfoSnapshot.InfoDataPointSnapshot.builder().labels(Labels.of(
                    "device", dev,
                    "target", str(r.target()),
                    "backend", str(r.backend()),
                    "queues", Integer.toString(r.queues()),
                    "depth", Integer.toString(r.depth()),
                    "program", str(r.program()),
                    "engine", str(r.engine()))).build());
            StatsView s = d.stats();
            Labels devLabels = labels(r.id(), -1)[0];
            scrapeErrors.dataPoint(gauge(s == null ? 1 : 0, devLabels));
            if (s == null) continue;
            // per queue: what is served where (op, path, in flight); the rest per device, so a
            // 32 x 32 fleet stays about nine series a queue
            for (StatsView.Queue q : s.queues()) {
                Labels[] l = labels(r.id(), q.queue());
                ios.dataPoint(counter(q.reads(), l[OP_READ]))
                        .dataPoint(counter(q.writes(), l[OP_WRITE]))
                        .dataPoint(counter(q.flushes(), l[OP_FLUSH]))
                        .dataPoint(counter(q.discards(), l[OP_DISCARD]))
                        .dataPoint(counter(q.writeZeroes(), l[OP_WRITE_ZEROES]));
                paths.dataPoint(counter(q.bpfHandled(), l[PATH_BPF]))
                        .dataPoint(counter(q.redirected(), l[PATH_SERVER]))
                        .dataPoint(counter(q.splitParts(), l[PATH_SPLIT]));
                inflight.dataPoint(gauge(q.inFlight(), l[0]));
            }
            StatsView.Queue t = s.total();
            Labels[] l = labels(r.id(), -1);
            bytes.dataPoint(counter(t.readBytes(), l[OP_READ]))
                    .dataPoint(counter(t.writeBytes(), l[OP_WRITE]))
                    // discard and write-zeroes cover bytes without moving them
                    .dataPoint(counter(t.bytes() - t.readBytes() - t.writeBytes(), l[OP_OTHER]));
            for (Map.Entry<String, Long> e : t.errorsByErrno().entrySet())
                errors.dataPoint(counter(e.getValue(), devLabels.add("errno", e.getKey())));
            aio.dataPoint(counter(t.aioSubmitted(), devLabels));
            runs.dataPoint(counter(t.progRuns(), devLabels));
            runSecs.dataPoint(counter(t.progRunNanos() / 1e9, devLabels));
            latency.dataPoint(histogram(t.latency(), devLabels));
        }
        return MetricSnapshots.of(info.build(), ios.build(), bytes.build(), paths.build(), errors.build(),
                inflight.build(), aio.build(), runs.build(), runSecs.build(), latency.build(), scrapeErrors.build());
    }

    /**
     * The engine's histogram folded into {@link #LATENCY_BOUNDS}: each engine bucket counts under
     * the first bound at or above its own upper end, so a count is never placed below its value
     * (an engine bucket that straddles a bound lands above it: at most 1/16 octave late).
     */
    static HistogramDataPointSnapshot histogram(StatsView.Latency l, Labels labels) {
        long[] counts = new long[LATENCY_BOUNDS.length];
        for (StatsView.Bucket b : l.buckets()) counts[boundIndex(b.le())] += b.count();
        return HistogramDataPointSnapshot.builder()
                .classicHistogramBuckets(ClassicHistogramBuckets.of(LATENCY_BOUNDS, counts))
                .sum(l.sumNs() / 1e9)
                .labels(labels)
                .build();
    }

    static int boundIndex(long upperNs) {
        double secs = upperNs / 1e9;
        for (int i = 0; i < LATENCY_BOUNDS.length; i++) if (secs <= LATENCY_BOUNDS[i]) return i;
        return LATENCY_BOUNDS.length - 1;
    }

    /** Indexes into {@link #labels(int, int)}: the bare set, then with op or path. */
    static final int BARE = 0, OP_READ = 1, OP_WRITE = 2, OP_FLUSH = 3, OP_DISCARD = 4, OP_WRITE_ZEROES = 5, OP_OTHER = 6,
            PATH_BPF = 7, PATH_SERVER = 8, PATH_SPLIT = 9;
    private static final String[][] EXTRA = {{}, {"op", "read"}, {"op", "write"}, {"op", "flush"}, {"op", "discard"},
            {"op", "write_zeroes"}, {"op", "other"}, {"path", Path.BPF.label}, {"path", Path.SERVER.label}, {"path", Path.SPLIT.label}};
    /** Label sets by device and queue (-1: the device's), made once: building them is most of a scrape's cost otherwise. */
    private static final java.util.concurrent.ConcurrentHashMap<Long, Labels[]> LABELS = new java.util.concurrent.ConcurrentHashMap<>();
    /** More than this many cached sets (devices come and go with new ids): start again. */
    private static final int LABELS_MAX = 1 << 16;

    static Labels[] labels(int device, int queue) {
        long key = ((long) device << 32) | (queue & 0xffff_ffffL);
        Labels[] l = LABELS.get(key);
        if (l != null) return l;
        if (LABELS.size() > LABELS_MAX) LABELS.clear();
        Labels base = queue < 0 ? Labels.of("device", Integer.toString(device))
                : Labels.of("device", Integer.toString(device), "queue", Integer.toString(queue));
        l = new Labels[EXTRA.length];
        for (int i = 0; i < EXTRA.length; i++) l[i] = i == 0 ? base : base.add(EXTRA[i][0], EXTRA[i][1]);
        LABELS.put(key, l);
        return l;
    }

    private static CounterDataPointSnapshot counter(double v, Labels l) {
        return CounterDataPointSnapshot.builder().value(v).labels(l).build();
    }

    private static GaugeDataPointSnapshot gauge(double v, Labels l) {
        return GaugeDataPointSnapshot.builder().value(v).labels(l).build();
    }

    private static String str(Object o) { return o == null ? "" : o.toString(); }
}
