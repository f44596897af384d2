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

import dev.ublkctl.engine.stats.DeviceCounters;
import dev.ublkctl.engine.stats.LatencySnapshot;
import dev.ublkctl.ublk.IoOp;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The daemon's counters as Prometheus metric families, built from every device's
 * {@link DeviceCounters} at each scrape (the engine's counters are already cumulative, so nothing
 * is kept here between scrapes but the label sets). Label sets are bounded by the devices' shape:
 * per queue the I/O by op (5) and by path (3) and the I/O in flight; per device the rest (bytes,
 * errors by errno, aio, program runs and time, the latency histogram with {@link #LATENCY_BOUNDS}).
 *
 * <p>A 32 × 32 fleet is about 10,000 data points a scrape, so they are made in the order the
 * client sorts them into (label values as strings: device "10" before "2"), which makes its sort
 * one pass; the label sets are made once per device and queue.
 */
public final class FleetMetrics implements MultiCollector {

    /** Histogram upper bounds in seconds, 1 µs .. 10 s (the engine's 1/16-octave buckets are folded into them). */
    static final double[] LATENCY_BOUNDS = {
            1e-6, 2.5e-6, 5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6,
            1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3,
            1, 2.5, 5, 10, Double.POSITIVE_INFINITY};

    /** For each engine bucket, the index of the bound it is counted under ({@link #boundIndex}). */
    private static final int[] BOUND_OF_BUCKET = new int[LatencySnapshot.BUCKETS];
    static {
        for (int i = 0; i < BOUND_OF_BUCKET.length; i++) BOUND_OF_BUCKET[i] = boundIndex(LatencySnapshot.bucketUpperBound(i));
    }

    /** The {@code path} label: how the program disposed of an I/O. */
    enum Path {
        /** completed by the program (QUEUED) */ BPF("bpf"),
        /** sent to the userspace target (REDIRECT, or no program) */ SERVER("server"),
        /** a CONTINUE piece of a split I/O */ SPLIT("split");
        final String label;
        Path(String label) { this.label = label; }
    }

    /** One device at a scrape: its record and counters, or why they could not be read ({@code counters} null). */
    public record Device(DeviceRecord record, DeviceCounters counters, String error) { }

    private final Supplier<List<Device>> source;

    public FleetMetrics(Supplier<List<Device>> source) { this.source = source; }

    @Override
    public MetricSnapshots collect() { return snapshots(source.get()); }

    /** The metric families for these devices (pure: the tests call it on counters they make). */
    public static MetricSnapshots snapshots(List<Device> devices) {
        // devices and queues in the order of their labels as strings: the client sorts data points
        // by label values, and a sorted input costs it one pass instead of ~10,000 × log2 comparisons
        List<Device> ds = new ArrayList<>(devices);
        ds.sort(Comparator.comparing(d -> Integer.toString(d.record().id())));
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

        for (Device d : ds) {
            DeviceRecord r = d.record();
            info.dataPoint(new InfoSnapshot.InfoDataPointSnapshot(Labels.of(
                    "device", Integer.toString(r.id()),
                    "target", str(r.target()),
                    "backend", str(r.backend()),
                    "queues", Integer.toString(r.queues()),
                    "depth", Integer.toString(r.depth()),
                    "program", str(r.program()),
                    "engine", str(r.engine()))));
            DeviceCounters c = d.counters();
            Labels[][] ql = labels(r.id(), c == null ? r.queues() : c.queues());
            Labels[] dl = ql[ql.length - 1];
            Labels devLabels = dl[BARE];
            scrapeErrors.dataPoint(gauge(c == null ? 1 : 0, devLabels));
            if (c == null) continue;
            // per queue: what is served where (op, path, in flight); the rest per device, so a
            // 32 x 32 fleet stays about nine series a queue
            int[] order = queueOrder(c.queues());
            for (int o = 0; o < OPS_BY_LABEL.length; o++)
                for (int q : order) ios.dataPoint(counter(c.ios(q, OPS_BY_LABEL[o]), ql[q][OP_LABEL_INDEX[o]]));
            for (int q : order) paths.dataPoint(counter(c.bpfHandled(q), ql[q][PATH_BPF]));
            for (int q : order) paths.dataPoint(counter(c.redirected(q), ql[q][PATH_SERVER]));
            for (int q : order) paths.dataPoint(counter(c.splitParts(q), ql[q][PATH_SPLIT]));
            for (int q : order) inflight.dataPoint(gauge(c.inFlight(q), ql[q][BARE]));

            long readBytes = c.bytes(-1, IoOp.READ), writeBytes = c.bytes(-1, IoOp.WRITE);
            // discard and write-zeroes cover bytes without moving them ("other" < "read" < "write")
            bytes.dataPoint(counter(c.bytes(-1) - readBytes - writeBytes, dl[OP_OTHER]));
            bytes.dataPoint(counter(readBytes, dl[OP_READ]));
            bytes.dataPoint(counter(writeBytes, dl[OP_WRITE]));
            for (Map.Entry<Integer, Long> e : c.errors().entrySet())
                errors.dataPoint(counter(e.getValue(), devLabels.add("errno", Integer.toString(e.getKey()))));
            aio.dataPoint(counter(c.aioSubmitted(-1), devLabels));
            runs.dataPoint(counter(c.progRuns(-1), devLabels));
            runSecs.dataPoint(counter(c.progRunNanos(-1) / 1e9, devLabels));
            latency.dataPoint(histogram(c, devLabels));
        }
        return MetricSnapshots.of(info.build(), ios.build(), bytes.build(), paths.build(), errors.build(),
                inflight.build(), aio.build(), runs.build(), runSecs.build(), latency.build(), scrapeErrors.build());
    }

    /** Queue numbers 0..n-1 in the order of their labels as strings ("0", "1", "10", "11", ..., "2", ...), made once per n. */
    private static final java.util.concurrent.ConcurrentHashMap<Integer, int[]> QUEUE_ORDER = new java.util.concurrent.ConcurrentHashMap<>();

    static int[] queueOrder(int n) {
        return QUEUE_ORDER.computeIfAbsent(n, k -> java.util.stream.IntStream.range(0, k).boxed()
                .sorted(Comparator.comparing(q -> Integer.toString(q))).mapToInt(Integer::intValue).toArray());
    }

    /**
     * The device's histogram folded into {@link #LATENCY_BOUNDS}: each engine bucket counts under
     * the first bound at or above its own upper end, so a count is never placed below its value
     * (an engine bucket that straddles a bound lands above it: at most 1/16 octave late).
     */
    static HistogramDataPointSnapshot histogram(DeviceCounters c, Labels labels) {
        long[] counts = new long[LATENCY_BOUNDS.length];
        for (int i = 0; i < LatencySnapshot.BUCKETS; i++) {
            long n = c.latencyBucket(i);
            if (n != 0) counts[BOUND_OF_BUCKET[i]] += n;
        }
        return HistogramDataPointSnapshot.builder()
                .classicHistogramBuckets(ClassicHistogramBuckets.of(LATENCY_BOUNDS, counts))
                .sum(c.latencySumNanos() / 1e9)
                .labels(labels)
                .build();
    }

    static int boundIndex(long upperNs) {
        double secs = upperNs / 1e9;
        for (int i = 0; i < LATENCY_BOUNDS.length; i++) if (secs <= LATENCY_BOUNDS[i]) return i;
        return LATENCY_BOUNDS.length - 1;
    }

    /** Indexes into {@link #labels(int, int)}'s sets: the bare set, then with op or path. */
    static final int BARE = 0, OP_READ = 1, OP_WRITE = 2, OP_FLUSH = 3, OP_DISCARD = 4, OP_WRITE_ZEROES = 5, OP_OTHER = 6,
            PATH_BPF = 7, PATH_SERVER = 8, PATH_SPLIT = 9;
    /** The ops of {@code ublk_io_total}, in the order of their label values ("discard" < "flush" < ...). */
    private static final IoOp[] OPS_BY_LABEL = {IoOp.DISCARD, IoOp.FLUSH, IoOp.READ, IoOp.WRITE, IoOp.WRITE_ZEROES};
    /** Their label sets' indexes in {@link #labels(int, int)}. */
    private static final int[] OP_LABEL_INDEX = {OP_DISCARD, OP_FLUSH, OP_READ, OP_WRITE, OP_WRITE_ZEROES};

    private static final String[][] EXTRA = {{}, {"op", "read"}, {"op", "write"}, {"op", "flush"}, {"op", "discard"},
            {"op", "write_zeroes"}, {"op", "other"}, {"path", Path.BPF.label}, {"path", Path.SERVER.label}, {"path", Path.SPLIT.label}};
    /**
     * A device's label sets, made once: {@code [q]} for queue q, {@code [queues]} for the device
     * (the bare set, then with each op or path, as {@link #BARE} ...). Building them is most of a
     * scrape's cost otherwise.
     */
    private static final java.util.concurrent.ConcurrentHashMap<Integer, Labels[][]> LABELS = new java.util.concurrent.ConcurrentHashMap<>();
    /** More than this many cached devices (devices come and go with new ids): start again. */
    private static final int LABELS_MAX = 1 << 12;

    static Labels[][] labels(int device, int queues) {
        Labels[][] l = LABELS.get(device);
        if (l != null && l.length == queues + 1) return l;
        if (LABELS.size() > LABELS_MAX) LABELS.clear();
        l = new Labels[queues + 1][];
        for (int q = -1; q < queues; q++) {
            Labels base = q < 0 ? Labels.of("device", Integer.toString(device))
                    : Labels.of("device", Integer.toString(device), "queue", Integer.toString(q));
            Labels[] set = new Labels[EXTRA.length];
            for (int i = 0; i < EXTRA.length; i++) set[i] = i == 0 ? base : base.add(EXTRA[i][0], EXTRA[i][1]);
            l[q < 0 ? queues : q] = set;
        }
        LABELS.put(device, l);
        return l;
    }

    private static CounterDataPointSnapshot counter(double v, Labels l) {
        return new CounterDataPointSnapshot(v, l, null, 0);
    }

    private static GaugeDataPointSnapshot gauge(double v, Labels l) {
        return new GaugeDataPointSnapshot(v, l, null);
    }

    private static String str(Object o) { return o == null ? "" : o.toString(); }
}
