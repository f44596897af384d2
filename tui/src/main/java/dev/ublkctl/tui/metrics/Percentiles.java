package dev.ublkctl.tui.metrics;

import dev.ublkctl.tui.model.LatencyHistogram;

/** Percentiles from a bucketed latency histogram. */
public final class Percentiles {
    private Percentiles() {}

    /**
     * The p-th percentile (p in 0..100] in nanoseconds, interpolated linearly inside the bucket
     * that holds the rank (a bucket spans from the previous bound, or 0, to its own bound).
     * NaN when the histogram is empty or null.
     */
    public static double of(LatencyHistogram h, double p) {
        if (!(p > 0 && p <= 100)) throw new IllegalArgumentException("percentile must be in (0, 100]: " + p);
        if (h == null) return Double.NaN;
        long total = h.total();
        if (total == 0) return Double.NaN;
        long[] bounds = h.upperNanos(), counts = h.counts();
        double rank = Math.ceil(p / 100.0 * total);
        long cum = 0;
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] == 0) continue;
            if (cum + counts[i] >= rank) {
                double lower = i == 0 ? 0 : bounds[i - 1];
                double frac = (rank - cum) / counts[i];
                return lower + (bounds[i] - lower) * frac;
            }
            cum += counts[i];
        }
        return bounds[bounds.length - 1];
    }
}
