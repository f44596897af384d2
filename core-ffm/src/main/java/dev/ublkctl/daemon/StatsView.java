package dev.ublkctl.daemon;

import dev.ublkctl.engine.stats.DeviceCounters;
import dev.ublkctl.engine.stats.DeviceStats;
import dev.ublkctl.engine.stats.LatencySnapshot;
import dev.ublkctl.engine.stats.OpCount;
import dev.ublkctl.engine.stats.QueueStats;
import dev.ublkctl.ublk.IoOp;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON of {@code device.stats} (and {@code ublkctl stats --json}): the engine's
 * {@link DeviceStats} with flat, stable field names; latency as percentiles since the start and
 * the histogram they come from, so a reader can take percentiles over any interval (two
 * snapshots' buckets subtracted), as the monitor does. All counters are totals since the device
 * started; rates are differences between two snapshots over {@code takenNanos}.
 *
 * @param id         device id
 * @param takenNanos when the snapshot was taken (System.nanoTime of the daemon)
 * @param total      every queue summed (queue = -1)
 * @param queues     one entry per queue
 * @param mapping    the BPF mapping cache of a mapped target (qcow2 with its program), else null
 */
public record StatsView(int id, long takenNanos, Queue total, List<Queue> queues, Mapping mapping) {

    public StatsView(int id, long takenNanos, Queue total, List<Queue> queues) { this(id, takenNanos, total, queues, null); }

    /**
     * A mapped target's cache in its program: {@code entries} of {@code maxEntries} mappings held,
     * program lookups that hit (served by bpf aio) and missed (redirected to the server, which
     * then maps the cluster), summed over queues.
     */
    public record Mapping(String map, long entries, long maxEntries, long hits, long misses) {
        /** hits / (hits + misses), or 0 before any lookup. */
        public double hitRatio() { return hits + misses == 0 ? 0 : (double) hits / (hits + misses); }
    }

    public StatsView withMapping(Mapping m) { return new StatsView(id, takenNanos, total, queues, m); }

    /** One queue's counters; {@code errors} maps errno to count. */
    public record Queue(int queue, long ios, long bytes, long reads, long readBytes, long writes, long writeBytes,
                        long flushes, long discards, long writeZeroes, long bpfHandled, long redirected,
                        long splitParts, long aioSubmitted, long aioCompleted, long errors,
                        Map<String, Long> errorsByErrno, long inFlight, Latency latency, long progRuns,
                        long progRunNanos) {
    }

    /**
     * Service time, request fetched → committed, in nanoseconds.
     * @param buckets the histogram's non-empty buckets, ascending: {@code count} I/Os took at most
     *                {@code le} ns (and more than the bucket below)
     * @param sumNs   every service time added up (a Prometheus histogram's {@code _sum})
     */
    public record Latency(long count, long minNs, long meanNs, long p50Ns, long p99Ns, long p999Ns, long maxNs,
                          List<Bucket> buckets, long sumNs) {
        public Latency {
            buckets = buckets == null ? List.of() : List.copyOf(buckets);
        }

        /** Without the sum (answers of daemons older than {@code sumNs}). */
        public Latency(long count, long minNs, long meanNs, long p50Ns, long p99Ns, long p999Ns, long maxNs, List<Bucket> buckets) {
            this(count, minNs, meanNs, p50Ns, p99Ns, p999Ns, maxNs, buckets, count * meanNs);
        }

        private static final Latency NONE = new Latency(0, 0, 0, 0, 0, 0, 0, List.of(), 0);

        static Latency of(LatencySnapshot l) {
            if (l.count() == 0) return NONE;
            List<Bucket> b = new ArrayList<>();
            for (int i = 0; i < LatencySnapshot.BUCKETS; i++) {
                long n = l.bucket(i);
                if (n != 0) b.add(new Bucket(LatencySnapshot.bucketUpperBound(i), n));
            }
            return new Latency(l.count(), l.minNanos(), Math.round(l.meanNanos()), l.p50(), l.p99(), l.p999(), l.maxNanos(), b, l.sumNanos());
        }
    }

    public record Bucket(long le, long count) { }

    /** One entry of {@code device.statsAll}: a device's record and stats, or why its stats could not be read. */
    public record OfDevice(DeviceRecord record, StatsView stats, String error) { }

    /** The same snapshot with only the total (no per-queue entries). */
    public StatsView withoutQueues() { return new StatsView(id, takenNanos, total, List.of()); }

    public static StatsView of(DeviceStats s) {
        List<Queue> qs = new ArrayList<>();
        for (QueueStats q : s.queues()) qs.add(queue(q));
        return new StatsView(s.devId(), s.takenNanos(), queue(s.total()), qs);
    }

    /**
     * The same view as {@code of(stats).withoutQueues()} for a device's counters read in place
     * ({@link DeviceCounters}): the total only, without building every queue's entry first.
     */
    public static StatsView totals(DeviceCounters c) {
        Map<String, Long> errs = new LinkedHashMap<>();
        long errors = 0;
        for (Map.Entry<Integer, Long> e : c.errors().entrySet()) {
            errs.put(Integer.toString(e.getKey()), e.getValue());
            errors += e.getValue();
        }
        long ios = 0;
        for (IoOp op : IoOp.values()) ios += c.ios(-1, op);
        Queue t = new Queue(-1, ios, c.bytes(-1), c.ios(-1, IoOp.READ), c.bytes(-1, IoOp.READ), c.ios(-1, IoOp.WRITE),
                c.bytes(-1, IoOp.WRITE), c.ios(-1, IoOp.FLUSH), c.ios(-1, IoOp.DISCARD), c.ios(-1, IoOp.WRITE_ZEROES),
                c.bpfHandled(-1), c.redirected(-1), c.splitParts(-1), c.aioSubmitted(-1), c.aioCompleted(-1), errors, errs,
                c.inFlight(-1), Latency.of(c.latency()), c.progRuns(-1), c.progRunNanos(-1));
        return new StatsView(c.devId(), c.takenNanos(), t, List.of());
    }

    static Queue queue(QueueStats q) {
        Map<String, Long> errs = new LinkedHashMap<>();
        q.errors().forEach((errno, n) -> errs.put(Integer.toString(errno), n));
        OpCount r = q.op(IoOp.READ), w = q.op(IoOp.WRITE);
        return new Queue(q.queue(), q.ios(), q.bytes(), r.ios(), r.bytes(), w.ios(), w.bytes(),
                q.op(IoOp.FLUSH).ios(), q.op(IoOp.DISCARD).ios(), q.op(IoOp.WRITE_ZEROES).ios(),
                q.bpfHandled(), q.redirected(), q.splitParts(), q.aioSubmitted(), q.aioCompleted(),
                q.errorCount(), errs, q.inFlight(), Latency.of(q.latency()), q.progRuns(), q.progRunNanos());
    }
}
