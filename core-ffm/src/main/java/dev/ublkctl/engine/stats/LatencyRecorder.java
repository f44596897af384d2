package dev.ublkctl.engine.stats;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A latency histogram with one writer and any number of readers: the writer updates with
 * plain reads and opaque stores (no locks, no CAS), readers take {@link #snapshot()}s or add it
 * into a device's histogram in place ({@link #addTo(DeviceCounters)}).
 * A snapshot taken during writes may be off by the in-progress record, never torn within a field.
 */
public final class LatencyRecorder {
    private static final VarHandle L = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int COUNT = 0, SUM = 1, MIN = 2, MAX = 3;
    private static final int OCTAVES = 4;
    /**
     * count, sum, min, max, and a bitmap of the groups of {@link LatencySnapshot#SUB} buckets (one
     * octave above 16 ns) that hold a record: bit {@code b / 16} for bucket b (960 buckets, 60 bits).
     */
    private final long[] head = {0, 0, Long.MAX_VALUE, 0, 0};
    private final long[] buckets = new long[LatencySnapshot.BUCKETS];

    /** Writer only. */
    public void record(long nanos) {
        if (nanos < 0) nanos = 0;
        int b = LatencySnapshot.bucketOf(nanos);
        L.setOpaque(buckets, b, buckets[b] + 1);
        long octave = 1L << (b >>> LatencySnapshot.SUB_BITS);
        if ((head[OCTAVES] & octave) == 0) L.setOpaque(head, OCTAVES, head[OCTAVES] | octave);
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

    /**
     * Adds this histogram into {@code d}'s device histogram without copying it: only the octaves
     * that hold a record are read (a null device's I/O spans a dozen of the 60, so about 200 of
     * the 960 buckets). As with {@link #snapshot()}, a record in progress may show in the next
     * reading instead of this one; an octave once read is read every time.
     */
    void addTo(DeviceCounters d) {
        long count = (long) L.getAcquire(head, COUNT);
        if (count == 0) return;
        // what the first `count` records wrote is visible after the acquire above
        long octaves = (long) L.getOpaque(head, OCTAVES);
        long[] into = d.latency;
        for (long o = octaves; o != 0; o &= o - 1) {
            int from = Long.numberOfTrailingZeros(o) << LatencySnapshot.SUB_BITS;
            for (int i = from; i < from + LatencySnapshot.SUB; i++) into[i] += (long) L.getOpaque(buckets, i);
        }
        d.latencySum += (long) L.getOpaque(head, SUM);
        d.latencyMin = Math.min(d.latencyMin, (long) L.getOpaque(head, MIN));
        d.latencyMax = Math.max(d.latencyMax, (long) L.getOpaque(head, MAX));
    }

    /**
     * Adds {@code dead}'s records to this one's ({@code dead}'s writer has ended). This recorder's
     * writer is then the caller: {@link QueueCounters} folds ended threads' recorders into one
     * under its lock, the lock its readers take too.
     */
    void absorb(LatencyRecorder dead) {
        long count = (long) L.getAcquire(dead.head, COUNT);
        if (count == 0) return;
        long octaves = (long) L.getOpaque(dead.head, OCTAVES);
        for (long o = octaves; o != 0; o &= o - 1) {
            int from = Long.numberOfTrailingZeros(o) << LatencySnapshot.SUB_BITS;
            for (int i = from; i < from + LatencySnapshot.SUB; i++)
                L.setOpaque(buckets, i, buckets[i] + (long) L.getOpaque(dead.buckets, i));
        }
        L.setOpaque(head, OCTAVES, head[OCTAVES] | octaves);
        L.setOpaque(head, SUM, head[SUM] + (long) L.getOpaque(dead.head, SUM));
        long min = (long) L.getOpaque(dead.head, MIN), max = (long) L.getOpaque(dead.head, MAX);
        if (min < head[MIN]) L.setOpaque(head, MIN, min);
        if (max > head[MAX]) L.setOpaque(head, MAX, max);
        L.setRelease(head, COUNT, head[COUNT] + count);
    }
}
