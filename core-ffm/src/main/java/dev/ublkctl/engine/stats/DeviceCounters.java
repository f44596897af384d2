package dev.ublkctl.engine.stats;

import dev.ublkctl.ublk.IoOp;

import java.util.Map;
import java.util.TreeMap;

/**
 * A device's counters as an exporter reads them (a Prometheus scrape): per queue the plain
 * numbers, their sum for the device, the errors by errno and one latency histogram for the device,
 * summed from every queue's recorders in place. Unlike {@link DeviceStats} it builds no
 * {@link QueueStats}, maps or per-queue histogram copies. The numbers are the ones
 * {@link DeviceStats} gives at the same moment. Filled once (by the engine's
 * {@code Device.counters()}), then only read.
 */
public final class DeviceCounters {
    private static final int N = StatsRecorder.N;

    private final int devId;
    private final int queues;
    /** {@code queues + 1} rows of {@link StatsRecorder#N} counters; the last row is the device's total. */
    final long[] counters;
    /** Device errors by positive errno. */
    final TreeMap<Integer, Long> errors = new TreeMap<>();
    /** Device latency histogram (buckets of {@link LatencySnapshot}), its sum, min and max. */
    final long[] latency = new long[LatencySnapshot.BUCKETS];
    long latencySum, latencyMin = Long.MAX_VALUE, latencyMax;
    private boolean done;
    private long takenNanos;

    public DeviceCounters(int devId, int queues) {
        this.devId = devId;
        this.queues = queues;
        this.counters = new long[(queues + 1) * N];
    }

    /** After every queue was added: the device's total row. */
    public DeviceCounters finish() {
        if (done) throw new IllegalStateException("finished already");
        done = true;
        takenNanos = System.nanoTime();
        int t = queues * N;
        for (int q = 0; q < queues; q++)
            for (int i = 0; i < N; i++) counters[t + i] += counters[q * N + i];
        return this;
    }

    /** In-flight of {@code row} at 0 if negative (starts and commits seen by different recorders). */
    void clampInFlight(int row) {
        int i = row * N + StatsRecorder.INFLIGHT;
        if (counters[i] < 0) counters[i] = 0;
    }

    public int devId() { return devId; }

    /** When the counters were read ({@link System#nanoTime()}, as {@link DeviceStats#takenNanos()}). */
    public long takenNanos() { return takenNanos; }

    public int queues() { return queues; }

    private long get(int queue, int field) {
        if (queue >= queues) throw new IndexOutOfBoundsException("queue " + queue + " of " + queues);
        return counters[(queue < 0 ? queues : queue) * N + field];
    }

    /** Completed I/Os of {@code op} on {@code queue} ({@code -1}: the device). */
    public long ios(int queue, IoOp op) { return get(queue, StatsRecorder.OPS + op.code); }

    /** Bytes of completed I/Os of {@code op} on {@code queue} ({@code -1}: the device). */
    public long bytes(int queue, IoOp op) { return get(queue, StatsRecorder.BYTES + op.code); }

    /** All bytes moved or covered on {@code queue} ({@code -1}: the device), as {@link QueueStats#bytes()}. */
    public long bytes(int queue) {
        long b = 0;
        for (IoOp op : IoOp.values()) b += bytes(queue, op);
        return b;
    }

    public long bpfHandled(int queue) { return get(queue, StatsRecorder.BPF); }
    public long redirected(int queue) { return get(queue, StatsRecorder.REDIRECT); }
    public long splitParts(int queue) { return get(queue, StatsRecorder.SPLIT); }
    public long aioSubmitted(int queue) { return get(queue, StatsRecorder.AIO_SUB); }
    public long aioCompleted(int queue) { return get(queue, StatsRecorder.AIO_DONE); }
    public long inFlight(int queue) { return get(queue, StatsRecorder.INFLIGHT); }
    public long progRuns(int queue) { return get(queue, StatsRecorder.RUNS); }
    public long progRunNanos(int queue) { return get(queue, StatsRecorder.RUN_NS); }

    /** The device's failed I/Os by positive errno, ascending. */
    public Map<Integer, Long> errors() { return java.util.Collections.unmodifiableMap(errors); }

    /** Completed I/Os of the device's latency histogram (the sum of its buckets). */
    public long latencyCount() {
        long n = 0;
        for (long b : latency) n += b;
        return n;
    }

    /** Bucket {@code i} of the device's latency histogram (buckets of {@link LatencySnapshot}). */
    public long latencyBucket(int i) { return latency[i]; }

    /** Every service time of the device added up, in nanoseconds. */
    public long latencySumNanos() { return latencySum; }

    /** The device's latency histogram as a snapshot (one copy). */
    public LatencySnapshot latency() {
        long n = latencyCount();
        return n == 0 ? LatencySnapshot.empty() : new LatencySnapshot(n, latencySum, latencyMin, latencyMax, latency);
    }
}
