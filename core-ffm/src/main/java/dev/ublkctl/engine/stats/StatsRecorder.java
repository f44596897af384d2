package dev.ublkctl.engine.stats;

import dev.ublkctl.ublk.IoOp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The counters of one queue as one thread writes them ({@link QueueCounters} keeps one per writer
 * and sums them). One writer updates them with plain reads and
 * opaque stores — no locks, no atomic read-modify-write; readers take {@link QueueStats}
 * snapshots at any time.
 */
public final class StatsRecorder {
    private static final VarHandle L = MethodHandles.arrayElementVarHandle(long[].class);
    static final int OPS = 0, BYTES = 6, BPF = 12, REDIRECT = 13, SPLIT = 14, AIO_SUB = 15, AIO_DONE = 16,
            INFLIGHT = 17, RUNS = 18, RUN_NS = 19, ERRS = 20, N = 21;
    private static final int MAX_ERRNO = 4096;

    private final int queue;
    private final long[] c = new long[N];
    private final long[] errors = new long[MAX_ERRNO + 1];
    private final LatencyRecorder latency = new LatencyRecorder();

    public StatsRecorder(int queue) { this.queue = queue; }

    private void add(int i, long d) { L.setOpaque(c, i, c[i] + d); }

    public void started() { add(INFLIGHT, 1); }

    /** An I/O committed with {@code result} after {@code nanos} of service. */
    public void completed(int opCode, int bytes, int result, long nanos) {
        add(INFLIGHT, -1);
        if (result < 0) {
            int e = Math.min(-result, MAX_ERRNO);
            L.setOpaque(errors, e, errors[e] + 1);
            add(ERRS, 1);   // lets a snapshot skip the errno table while nothing failed
        } else if (opCode >= 0 && opCode < 6) {
            add(OPS + opCode, 1);
            add(BYTES + opCode, bytes);
        }
        latency.record(nanos);
    }

    public void bpfHandled() { add(BPF, 1); }
    public void redirected() { add(REDIRECT, 1); }
    public void splitPart() { add(SPLIT, 1); }
    public void aioSubmitted() { add(AIO_SUB, 1); }
    public void aioCompleted() { add(AIO_DONE, 1); }

    public void progRun(long nanos) {
        add(RUNS, 1);
        add(RUN_NS, nanos);
    }

    public QueueStats snapshot() { return snapshot(true); }

    /**
     * Adds these counters into row {@code row} of {@code d}, the errors into its device errno
     * table and the latency histogram into its device histogram: the plain numbers only, no
     * {@link QueueStats}, maps or histogram copy (what an exporter reads). In-flight is raw, as
     * with {@code snapshot(false)}.
     */
    void addTo(DeviceCounters d, int row) {
        long[] into = d.counters;
        int off = row * N;
        for (int i = 0; i < N; i++) into[off + i] += (long) L.getOpaque(c, i);
        if ((long) L.getOpaque(c, ERRS) != 0) for (int e = 1; e <= MAX_ERRNO; e++) {
            long n = (long) L.getOpaque(errors, e);
            if (n != 0) d.errors.merge(e, n, Long::sum);
        }
        latency.addTo(d);
    }

    /**
     * Adds the counters of {@code dead}, whose writing thread has ended, to this recorder; the
     * caller is this recorder's only writer (see {@link QueueCounters}).
     */
    void absorb(StatsRecorder dead) {
        for (int i = 0; i < N; i++) add(i, (long) L.getOpaque(dead.c, i));
        if ((long) L.getOpaque(dead.c, ERRS) != 0) for (int e = 1; e <= MAX_ERRNO; e++) {
            long n = (long) L.getOpaque(dead.errors, e);
            if (n != 0) L.setOpaque(errors, e, errors[e] + n);
        }
        latency.absorb(dead.latency);
    }

    /**
     * {@code clampInFlight} false: the raw in-flight count, which may be negative in one of several
     * recorders of a queue (an I/O started by one thread and committed by another); their sum is not.
     */
    QueueStats snapshot(boolean clampInFlight) {
        long[] v = new long[N];
        for (int i = 0; i < N; i++) v[i] = (long) L.getOpaque(c, i);
        Map<IoOp, OpCount> ops = new EnumMap<>(IoOp.class);
        for (IoOp op : IoOp.values()) ops.put(op, new OpCount(v[OPS + op.code], v[BYTES + op.code]));
        Map<Integer, Long> errs = new TreeMap<>();
        // the 4096-slot errno table only once something failed (opaque reads, as for every counter
        // here: a failure recorded during this snapshot may show in the next one)
        if (v[ERRS] != 0) for (int e = 1; e <= MAX_ERRNO; e++) {
            long n = (long) L.getOpaque(errors, e);
            if (n != 0) errs.put(e, n);
        }
        return new QueueStats(queue, ops, v[BPF], v[REDIRECT], v[SPLIT], v[AIO_SUB], v[AIO_DONE], errs,
                clampInFlight ? Math.max(0, v[INFLIGHT]) : v[INFLIGHT], latency.snapshot(), v[RUNS], v[RUN_NS]);
    }
}
