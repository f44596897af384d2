package dev.ublkctl.engine.stats;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A latency histogram with one writer and any number of readers: the writer updates with
 * plain reads and opaque stores (no locks, no CAS), readers take {@link #snapshot()}s.
 * A snapshot taken during writes may be off by the in-progress record, never torn within a field.
 */
public final class LatencyRecorder {
    private static final VarHandle L = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int COUNT = 0, SUM = 1, MIN = 2, MAX = 3;
    private final long[] head = {0, 0, Long.MAX_VALUE, 0};
    private final long[] buckets = new long[LatencySnapshot.BUCKETS];

    /** Writer only. */
    public void record(long nanos) {
        if (nanos < 0) nanos = 0;
        int b = LatencySnapshot.bucketOf(nanos);
        L.setOpaque(buckets, b, buckets[b] + 1);
        L.setOpaque(head, SUM, head[SUM] + nanos);
        if (nanos < head[MIN]) L.setOpaque(head, MIN, nanos);
        if (nanos > head[MAX]) L.setOpaque(head, MAX, nanos);
        L.setRelease(head, COUNT, head[COUNT] + 1);
    }

    public LatencySnapshot snapshot() {
        long count = (long) L.getAcquire(head, COUNT);
        if (count == 0) return LatencySnapshot.empty();   // an idle queue: no 960-bucket copy
        long[] b = new long[buckets.length];
        long total = 0;
        for (int i = 0; i < b.length; i++) total += b[i] = (long) L.getOpaque(buckets, i);
        long min = (long) L.getOpaque(head, MIN);
        // count and buckets may differ by records in progress; the buckets are what percentiles use
        return new LatencySnapshot(total, (long) L.getOpaque(head, SUM), total == 0 ? 0 : min,
                (long) L.getOpaque(head, MAX), b);
    }
}
