package dev.ublkctl.tui.metrics;

/**
 * Area charts in Unicode braille: each character cell is 2 dots wide and 4 dots high
 * (U+2800 + one bit per dot), so a chart {@code w} cells wide draws {@code 2w} samples at
 * {@code 4h} levels, as btop and bpftop do. Continuous: every dot column with a value is filled
 * from the bottom up to it; a column without a value (NaN) stays blank, so a gap in the data shows.
 * A stacked chart fills a lower layer, then an upper layer on top of it, and says per cell which
 * layer covers more of it (for the cell's color).
 */
public final class Braille {
    private Braille() {}

    /** Dot bits, [column 0|1][row 0 (top)..3]. */
    private static final int[][] DOT = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};
    private static final char BLANK = '\u2800';

    /**
     * A chart: {@code rows[r]} is the text of row {@code r} (top first); {@code upper[r][c]} says
     * whether cell (r, c) is mostly the upper layer of a stacked chart (always false otherwise).
     */
    public record Plot(String[] rows, boolean[][] upper) { }

    /** Filled height in dots (0..4*height) of a value against {@code top}; a positive value gets at least one dot. */
    static int dots(double v, double top, int height) {
        if (Double.isNaN(v) || v <= 0 || !(top > 0)) return 0;
        int steps = height * 4;
        return (int) Math.clamp(Math.round(v / top * steps), 1, steps);
    }

    /**
     * One area chart over {@code values} (one per dot column, so {@code 2 * width} of them; a shorter
     * array is drawn from the left), {@code height} rows, scaled so {@code top} fills it.
     */
    public static Plot area(double[] values, int width, int height, double top) {
        return stacked(values, null, width, height, top);
    }

    /**
     * A stacked chart: {@code lower} at the bottom, {@code upper} (may be null) on top of it, both
     * scaled to {@code top}. NaN in {@code lower} blanks the whole column.
     */
    public static Plot stacked(double[] lower, double[] upper, int width, int height, double top) {
        if (width <= 0 || height <= 0) return new Plot(new String[0], new boolean[0][0]);
        int[][] bits = new int[height][width];
        int[][] upperDots = new int[height][width], lowerDots = new int[height][width];
        for (int x = 0; x < Math.min(lower.length, 2 * width); x++) {
            double lo = lower[x];
            if (Double.isNaN(lo)) continue;
            double up = upper == null || x >= upper.length || Double.isNaN(upper[x]) ? 0 : upper[x];
            int hLow = dots(lo, top, height);
            int hAll = upper == null ? hLow : dots(lo + up, top, height);
            if (upper != null && up > 0 && hAll == hLow && hAll < height * 4) hAll++; // a positive upper layer never vanishes
            for (int d = 0; d < hAll; d++) {
                int rowFromBottom = d / 4, dotRow = 3 - d % 4;
                int r = height - 1 - rowFromBottom, c = x / 2;
                bits[r][c] |= DOT[x % 2][dotRow];
                if (d < hLow) lowerDots[r][c]++;
                else upperDots[r][c]++;
            }
        }
        String[] rows = new String[height];
        boolean[][] up = new boolean[height][width];
        for (int r = 0; r < height; r++) {
            char[] line = new char[width];
            for (int c = 0; c < width; c++) {
                line[c] = (char) (BLANK + bits[r][c]);
                up[r][c] = upperDots[r][c] > lowerDots[r][c];
            }
            rows[r] = new String(line);
        }
        return new Plot(rows, up);
    }

    /** One row of braille: a sparkline of {@code 2 * width} values scaled to {@code top} (4 levels). */
    public static String sparkline(double[] values, int width, double top) {
        return area(values, width, 1, top).rows()[0];
    }
}
