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
 * Label sets are bounded by the devices' shape: device, queue, op (5), path (3), errno (what
 * failed); the latency histogram is per device with {@link #LATENCY_BOUNDS} only.
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
                .help("Bytes of completed I/Os by op");
        var paths = CounterSnapshot.builder().name("ublk_io_path")
                .help("I/O dispositions of the BPF program: bpf = completed in BPF (QUEUED), server = sent to the "
                        + "userspace target (REDIRECT), split = CONTINUE pieces");
        var errors = CounterSnapshot.builder().name("ublk_io_errors").help("Failed I/Os by errno");
        var inflight = GaugeSnapshot.builder().name("ublk_io_in_flight").help("I/Os fetched and not yet committed");
        var aio = CounterSnapshot.builder().name("ublk_bpf_aio").help("bpf aio submitted by the program");
        var runs = CounterSnapshot.builder().name("ublk_bpf_program_runs").help("BPF program invocations");
        var runSecs = CounterSnapshot.builder().name("ublk_bpf_program_run_seconds").unit(Unit.SECONDS)
                .help("Time spent running the BPF program");
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
            scrapeErrors.dataPoint(gauge(s == null ? 1 : 0, Labels.of("device", dev)));
            if (s == null) continue;
            for (StatsView.Queue q : s.queues()) {
                Labels l = Labels.of("device", dev, "queue", Integer.toString(q.queue()));
                long otherOps = q.ios() - q.reads() - q.writes() - q.flushes() - q.discards() - q.writeZeroes();
                long otherBytes = q.bytes() - q.readBytes() - q.writeBytes();
                ios.dataPoint(counter(q.reads(), l.add("op", "read")))
                        .dataPoint(counter(q.writes(), l.add("op", "write")))
                        .dataPoint(counter(q.flushes(), l.add("op", "flush")))
                        .dataPoint(counter(q.discards(), l.add("op", "discard")))
                        .dataPoint(counter(q.writeZeroes(), l.add("op", "write_zeroes")));
                if (otherOps > 0) ios.dataPoint(counter(otherOps, l.add("op", "other")));
                bytes.dataPoint(counter(q.readBytes(), l.add("op", "read")))
                        .dataPoint(counter(q.writeBytes(), l.add("op", "write")))
                        // discard and write-zeroes cover bytes without moving them
                        .dataPoint(counter(otherBytes, l.add("op", "other")));
                paths.dataPoint(counter(q.bpfHandled(), l.add("path", Path.BPF.label)))
                        .dataPoint(counter(q.redirected(), l.add("path", Path.SERVER.label)))
                        .dataPoint(counter(q.splitParts(), l.add("path", Path.SPLIT.label)));
                for (Map.Entry<String, Long> e : q.errorsByErrno().entrySet())
                    errors.dataPoint(counter(e.getValue(), l.add("errno", e.getKey())));
                inflight.dataPoint(gauge(q.inFlight(), l));
                aio.dataPoint(counter(q.aioSubmitted(), l));
                runs.dataPoint(counter(q.progRuns(), l));
                runSecs.dataPoint(counter(q.progRunNanos() / 1e9, l));
            }
            latency.dataPoint(histogram(s.total().latency(), Labels.of("device", dev)));
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

    private static CounterDataPointSnapshot counter(double v, Labels l) {
        return CounterDataPointSnapshot.builder().value(v).labels(l).build();
    }

    private static GaugeDataPointSnapshot gauge(double v, Labels l) {
        return GaugeDataPointSnapshot.builder().value(v).labels(l).build();
    }

    private static String str(Object o) { return o == null ? "" : o.toString(); }
}
