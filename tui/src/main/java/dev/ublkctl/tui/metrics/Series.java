package dev.ublkctl.tui.metrics;

import java.util.Arrays;

/**
 * An immutable time series: {@code times[i]} (seconds, monotonic) and {@code values[i]}, ascending
 * in time. NaN values are gaps (no data for that sample).
 */
public record Series(double[] times, double[] values) {
    public static final Series EMPTY = new Series(new double[0], new double[0]);

    public Series {
        if (times.length != values.length) throw new IllegalArgumentException("times and values differ in length");
    }

    public int size() { return times.length; }

    /** The last non-NaN value, or NaN. */
    public double last() {
        for (int i = values.length - 1; i >= 0; i--) if (!Double.isNaN(values[i])) return values[i];
        return Double.NaN;
    }

    /** The largest non-NaN value with time in [from, to], or NaN when there is none. */
    public double max(double from, double to) {
        double m = Double.NaN;
        for (int i = 0; i < times.length; i++) {
            if (times[i] < from || times[i] > to || Double.isNaN(values[i])) continue;
            if (Double.isNaN(m) || values[i] > m) m = values[i];
        }
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Series s && Arrays.equals(times, s.times) && Arrays.equals(values, s.values);
    }

    @Override
    public int hashCode() { return Arrays.hashCode(times) * 31 + Arrays.hashCode(values); }

    @Override
    public String toString() { return "Series" + Arrays.toString(times) + Arrays.toString(values); }
}
