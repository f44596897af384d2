package dev.ublkctl.tui.metrics;

/**
 * Scales a time series into a block-character chart: {@code width} columns over the last
 * {@code windowSec} seconds, {@code height} rows, eight levels per row. A column shows the mean of
 * the samples that fall in its time slot; a slot without samples is blank (not zero), so a gap in
 * the data is visible as such.
 */
public final class Chart {
    private Chart() {}

    /**
     * Like {@link #columns(Series, double, double, int)}, but a column without a sample of its own
     * holds the last sample before it if that is at most {@code holdSec} old: with more columns
     * than samples (a wide chart, a slow refresh) the line stays continuous, while a real gap (no
     * sample for longer than {@code holdSec}) stays blank.
     */
    public static double[] columns(Series s, double nowSec, double windowSec, int width, double holdSec) {
        double[] out = columns(s, nowSec, windowSec, width);
        if (width <= 0) return out;
        double slot = windowSec / width, from = nowSec - windowSec;
        double[] t = s.times(), v = s.values();
        int k = 0;   // next sample not yet at or before the column's end
        double lastT = Double.NaN, lastV = Double.NaN;
        for (int c = 0; c < width; c++) {
            double end = from + (c + 1) * slot;
            while (k < t.length && t[k] <= end) {
                if (!Double.isNaN(v[k])) { lastT = t[k]; lastV = v[k]; }
                k++;
            }
            if (Double.isNaN(out[c]) && !Double.isNaN(lastT) && end - lastT <= holdSec && end - slot < nowSec) out[c] = lastV;
        }
        return out;
    }

    /** Partial blocks from empty to full, one eighth each. */
    static final char[] LEVELS = {' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'};

    /**
     * Mean value per column; NaN for a column with no sample. Column {@code width-1} ends at
     * {@code nowSec}; each spans {@code windowSec / width} seconds.
     */
    public static double[] columns(Series s, double nowSec, double windowSec, int width) {
        if (width <= 0) return new double[0];
        double[] sum = new double[width];
        int[] n = new int[width];
        double slot = windowSec / width, from = nowSec - windowSec;
        double[] t = s.times(), v = s.values();
        for (int i = 0; i < t.length; i++) {
            if (Double.isNaN(v[i]) || t[i] <= from || t[i] > nowSec) continue;
            int c = (int) Math.ceil((t[i] - from) / slot) - 1;
            c = Math.clamp(c, 0, width - 1);
            sum[c] += v[i];
            n[c]++;
        }
        double[] out = new double[width];
        for (int c = 0; c < width; c++) out[c] = n[c] == 0 ? Double.NaN : sum[c] / n[c];
        return out;
    }

    /**
     * The chart as {@code height} strings of {@code width} characters, top row first.
     * Values are scaled to {@code max} (values above it are drawn full); {@code max <= 0} or NaN
     * means "scale to the largest column". A positive value never vanishes: it gets at least one
     * eighth, so a trickle of I/O shows.
     */
    public static String[] render(double[] cols, int height, double max) {
        if (height <= 0) return new String[0];
        double top = max;
        if (!(top > 0)) {
            top = 0;
            for (double c : cols) if (!Double.isNaN(c) && c > top) top = c;
        }
        StringBuilder[] rows = new StringBuilder[height];
        for (int r = 0; r < height; r++) rows[r] = new StringBuilder(cols.length);
        int steps = height * 8;
        for (double c : cols) {
            int level;
            if (Double.isNaN(c) || c <= 0 || top <= 0) level = 0;
            else level = Math.clamp(Math.round(c / top * steps), 1, steps);
            for (int r = 0; r < height; r++) {
                int rowFromBottom = height - 1 - r;
                int inRow = Math.clamp(level - rowFromBottom * 8, 0, 8);
                rows[r].append(LEVELS[inRow]);
            }
        }
        String[] out = new String[height];
        for (int r = 0; r < height; r++) out[r] = rows[r].toString();
        return out;
    }

    /** One-row sparkline of the series over the window. */
    public static String sparkline(Series s, double nowSec, double windowSec, int width, double max) {
        return render(columns(s, nowSec, windowSec, width), 1, max)[0];
    }
}
