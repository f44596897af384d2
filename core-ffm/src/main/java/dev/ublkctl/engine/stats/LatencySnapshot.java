package dev.ublkctl.engine.stats;

import java.util.Arrays;
import java.util.List;

/**
 * An immutable log-linear latency histogram (nanoseconds): values below 16 have their own
 * bucket; above, each power of two is cut in 16 equal buckets (at most 1/16 relative error).
 */
public record LatencySnapshot(long count, long sumNanos, long minNanos, long maxNanos, long[] buckets) {
    static final int SUB_BITS = 4, SUB = 1 << SUB_BITS;
    /** Buckets for values up to 2^63. */
    public static final int BUCKETS = (63 - SUB_BITS + 1) * SUB;

    public LatencySnapshot {
        buckets = buckets.clone();
    }

    private static final LatencySnapshot EMPTY = new LatencySnapshot(0, 0, 0, 0, new long[BUCKETS]);

    /** No samples (one shared instance: a snapshot is immutable, {@link #buckets()} hands out copies). */
    public static LatencySnapshot empty() { return EMPTY; }

    /** Bucket index of a value (negative values count as 0). */
    public static int bucketOf(long v) {
        if (v < SUB) return v < 0 ? 0 : (int) v;
        int e = 63 - Long.numberOfLeadingZeros(v);
        return (e - SUB_BITS + 1) * SUB + (int) ((v >>> (e - SUB_BITS)) & (SUB - 1));
    }

    public static long bucketLowerBound(int i) {
        if (i < SUB) return i;
        int e = i / SUB + SUB_BITS - 1, sub = i % SUB;
        return (long) (SUB + sub) << (e - SUB_BITS);
    }

    public static long bucketUpperBound(int i) {
        if (i < SUB) return i;
        int e = i / SUB + SUB_BITS - 1;
        return bucketLowerBound(i) + (1L << (e - SUB_BITS)) - 1;
    }

    @Override
    public long[] buckets() { return buckets.clone(); }

    public double meanNanos() { return count == 0 ? 0 : (double) sumNanos / count; }

    /** The value at percentile {@code p} (0..100): the upper bound of its bucket, clipped to [min, max]. */
    public long percentile(double p) {
        if (count == 0) return 0;
        if (p < 0 || p > 100) throw new IllegalArgumentException("percentile must be in 0..100, got " + p);
        long rank = Math.max(1, (long) Math.ceil(p / 100.0 * count));
        long seen = 0;
        for (int i = 0; i < buckets.length; i++) {
            seen += buckets[i];
            if (seen >= rank) return Math.max(minNanos, Math.min(maxNanos, bucketUpperBound(i)));
        }
        return maxNanos;
    }

    public long p50() { return percentile(50); }
    public long p99() { return percentile(99); }
    public long p999() { return percentile(99.9); }

    /** This histogram minus an earlier one of the same source (min/max stay this one's). */
    public LatencySnapshot minus(LatencySnapshot earlier) {
        long[] b = buckets.clone();
        for (int i = 0; i < b.length; i++) b[i] -= earlier.buckets[i];
        return new LatencySnapshot(count - earlier.count, sumNanos - earlier.sumNanos, minNanos, maxNanos, b);
    }

    /** Bucket {@code i}'s count, without copying the histogram as {@link #buckets()} does. */
    public long bucket(int i) { return buckets[i]; }

    /** The sum of many histograms, into one new array (not one per addition, as {@link #plus} would). */
    public static LatencySnapshot sum(List<LatencySnapshot> parts) {
        long count = 0, sum = 0, min = Long.MAX_VALUE, max = 0;
        long[] b = null;
        for (LatencySnapshot p : parts) {
            if (p.count == 0) continue;
            if (b == null) b = new long[BUCKETS];
            for (int i = 0; i < BUCKETS; i++) b[i] += p.buckets[i];
            count += p.count;
            sum += p.sumNanos;
            min = Math.min(min, p.minNanos);
            max = Math.max(max, p.maxNanos);
        }
        return b == null ? empty() : new LatencySnapshot(count, sum, min, max, b);
    }

    /** The sum of two histograms. */
    public LatencySnapshot plus(LatencySnapshot o) {
        if (o.count == 0) return this;
        if (count == 0) return o;
        long[] b = buckets.clone();
        for (int i = 0; i < b.length; i++) b[i] += o.buckets[i];
        return new LatencySnapshot(count + o.count, sumNanos + o.sumNanos, Math.min(minNanos, o.minNanos),
                Math.max(maxNanos, o.maxNanos), b);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LatencySnapshot l && l.count == count && l.sumNanos == sumNanos && l.minNanos == minNanos
                && l.maxNanos == maxNanos && Arrays.equals(l.buckets, buckets);
    }

    @Override
    public int hashCode() { return Long.hashCode(count) * 31 + Arrays.hashCode(buckets); }

    @Override
    public String toString() {
        return "LatencySnapshot[count=" + count + ", mean=" + (long) meanNanos() + "ns, p50=" + p50() + "ns, p99=" + p99()
                + "ns, p999=" + p999() + "ns, max=" + maxNanos + "ns]";
    }
}
