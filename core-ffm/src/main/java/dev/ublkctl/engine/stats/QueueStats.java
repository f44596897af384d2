package dev.ublkctl.engine.stats;

import dev.ublkctl.ublk.IoOp;

import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * One queue's counters at a moment (or a device's total, with {@code queue == -1}).
 *
 * @param ops          completed I/Os and bytes by op
 * @param bpfHandled   I/Os the program handled entirely (QUEUED, possibly after CONTINUE)
 * @param redirected   I/Os (or their tails) the program sent to the Java target
 * @param splitParts   CONTINUE returns (pieces queued by the program before the last call)
 * @param aioSubmitted bpf aio submitted by programs
 * @param aioCompleted bpf aio completed
 * @param errors       failed I/Os by positive errno
 * @param inFlight     I/Os fetched and not yet committed
 * @param latency      service time, request fetched → committed
 * @param progRuns     program invocations (queue_io_cmd, aio callbacks, release)
 * @param progRunNanos time spent running programs
 */
public record QueueStats(int queue, Map<IoOp, OpCount> ops, long bpfHandled, long redirected, long splitParts,
                         long aioSubmitted, long aioCompleted, Map<Integer, Long> errors, long inFlight,
                         LatencySnapshot latency, long progRuns, long progRunNanos) {
    public QueueStats {
        EnumMap<IoOp, OpCount> m = new EnumMap<>(IoOp.class);
        for (IoOp op : IoOp.values()) m.put(op, ops.getOrDefault(op, OpCount.ZERO));
        ops = java.util.Collections.unmodifiableMap(m);
        errors = java.util.Collections.unmodifiableMap(new TreeMap<>(errors));
    }

    public static QueueStats empty(int queue) {
        return new QueueStats(queue, Map.of(), 0, 0, 0, 0, 0, Map.of(), 0, LatencySnapshot.empty(), 0, 0);
    }

    public OpCount op(IoOp op) { return ops.get(op); }

    /** The same counters with another latency histogram. */
    public QueueStats withLatency(LatencySnapshot l) {
        return new QueueStats(queue, ops, bpfHandled, redirected, splitParts, aioSubmitted, aioCompleted, errors, inFlight,
                l, progRuns, progRunNanos);
    }

    /** All completed I/Os. */
    public long ios() { return ops.values().stream().mapToLong(OpCount::ios).sum(); }

    /** All bytes moved or covered. */
    public long bytes() { return ops.values().stream().mapToLong(OpCount::bytes).sum(); }

    public long errorCount() { return errors.values().stream().mapToLong(Long::longValue).sum(); }

    /** Sum of two queues' counters (the queue id of the result is {@code queue}). */
    public QueueStats plus(QueueStats o, int queue) {
        EnumMap<IoOp, OpCount> m = new EnumMap<>(IoOp.class);
        for (IoOp op : IoOp.values()) m.put(op, ops.get(op).plus(o.ops.get(op)));
        TreeMap<Integer, Long> e = new TreeMap<>(errors);
        o.errors.forEach((k, v) -> e.merge(k, v, Long::sum));
        return new QueueStats(queue, m, bpfHandled + o.bpfHandled, redirected + o.redirected, splitParts + o.splitParts,
                aioSubmitted + o.aioSubmitted, aioCompleted + o.aioCompleted, e, inFlight + o.inFlight,
                latency.plus(o.latency), progRuns + o.progRuns, progRunNanos + o.progRunNanos);
    }

    /** Counters since {@code earlier} (in-flight stays this snapshot's). */
    public QueueStats minus(QueueStats earlier) {
        EnumMap<IoOp, OpCount> m = new EnumMap<>(IoOp.class);
        for (IoOp op : IoOp.values()) m.put(op, ops.get(op).minus(earlier.ops.get(op)));
        TreeMap<Integer, Long> e = new TreeMap<>(errors);
        earlier.errors.forEach((k, v) -> e.merge(k, -v, Long::sum));
        e.values().removeIf(v -> v == 0);
        return new QueueStats(queue, m, bpfHandled - earlier.bpfHandled, redirected - earlier.redirected,
                splitParts - earlier.splitParts, aioSubmitted - earlier.aioSubmitted, aioCompleted - earlier.aioCompleted,
                e, inFlight, latency.minus(earlier.latency), progRuns - earlier.progRuns, progRunNanos - earlier.progRunNanos);
    }
}
