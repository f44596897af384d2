package dev.ublkctl.tui.model;

import java.util.Arrays;

/**
 * A cumulative latency histogram: {@code counts[i]} I/Os took at most {@code upperNanos[i]}
 * (and more than {@code upperNanos[i-1]}). Bounds ascend strictly. Only buckets the source
 * reported are kept (sparse), so any bucketing scheme fits.
 */
public record LatencyHistogram(long[] upperNanos, long[] counts) {

    public static final LatencyHistogram EMPTY = new LatencyHistogram(new long[0], new long[0]);

    public LatencyHistogram {
        if (upperNanos.length != counts.length) {
            throw new IllegalArgumentException("bounds and counts differ in length: " + upperNanos.length + " vs " + counts.length);
        }
        for (int i = 1; i < upperNanos.length; i++) {
            if (upperNanos[i] <= upperNanos[i - 1]) throw new IllegalArgumentException("bucket bounds must ascend at " + i);
        }
        upperNanos = upperNanos.clone();
        counts = counts.clone();
    }

    public long total() {
        long t = 0;
        for (long c : counts) t += c;
        return t;
    }

    public long[] upperNanos() { return upperNanos.clone(); }
    public long[] counts() { return counts.clone(); }
    int size() { return counts.length; }
    long bound(int i) { return upperNanos[i]; }
    long count(int i) { return counts[i]; }

    /**
     * This histogram minus an earlier one of the same source, bucket by bucket (matched by bound).
     * Returns {@code null} when any bucket went down: the counters were reset in between.
     */
    public LatencyHistogram minus(LatencyHistogram earlier) {
        long[] out = counts.clone();
        int j = 0;
        for (int i = 0; i < earlier.size(); i++) {
            long b = earlier.bound(i);
            while (j < upperNanos.length && upperNanos[j] < b) j++;
            if (j == upperNanos.length || upperNanos[j] != b) {
                if (earlier.count(i) != 0) return null; // a bucket vanished: not the same series
                continue;
            }
            out[j] -= earlier.count(i);
            if (out[j] < 0) return null;
        }
        return new LatencyHistogram(upperNanos, out);
    }

    /** Sums histograms (queues into a device); bounds are merged. */
    public static LatencyHistogram sum(Iterable<LatencyHistogram> parts) {
        java.util.TreeMap<Long, Long> m = new java.util.TreeMap<>();
        for (LatencyHistogram h : parts) {
            for (int i = 0; i < h.size(); i++) m.merge(h.bound(i), h.count(i), Long::sum);
        }
        long[] b = new long[m.size()], c = new long[m.size()];
        int i = 0;
        for (var e : m.entrySet()) {
            b[i] = e.getKey();
            c[i++] = e.getValue();
        }
        return new LatencyHistogram(b, c);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LatencyHistogram h && Arrays.equals(upperNanos, h.upperNanos) && Arrays.equals(counts, h.counts);
    }

    @Override
    public int hashCode() { return 31 * Arrays.hashCode(upperNanos) + Arrays.hashCode(counts); }

    @Override
    public String toString() { return "LatencyHistogram" + Arrays.toString(upperNanos) + Arrays.toString(counts); }
}
