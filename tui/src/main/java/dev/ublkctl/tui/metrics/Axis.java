package dev.ublkctl.tui.metrics;

import java.util.function.DoubleFunction;

/** The scales around a chart: a round top value for the y axis, its labels, and time marks under the x axis. */
public final class Axis {
    private Axis() {}

    /** The smallest 1, 2 or 5 × 10^k at or above {@code v} (1 for nothing to show), so the y axis reads round numbers. */
    public static double niceTop(double v) {
        if (!(v > 0) || Double.isInfinite(v)) return 1;
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[]{1, 2, 5, 10}) if (m * p >= v * (1 - 1e-12)) return m * p;
        return 10 * p;
    }

    /**
     * Labels for each of {@code height} chart rows, right-aligned in {@code width} characters: the
     * top row shows {@code top}, the bottom row 0, and the middle row (charts of 3 rows or more)
     * half; the others are blank.
     */
    public static String[] yLabels(double top, int height, int width, DoubleFunction<String> format) {
        String[] out = new String[height];
        for (int r = 0; r < height; r++) {
            String s = "";
            if (r == 0) s = format.apply(top);
            else if (r == height - 1) s = format.apply(0);
            else if (height >= 3 && r == (height - 1) / 2 && height % 2 == 1) s = format.apply(top / 2);
            out[r] = pad(s, width);
        }
        return out;
    }

    /**
     * A line of {@code width} characters under a chart spanning the last {@code spanSec} seconds:
     * a tick label ("-4m", "-30s") at the column of each round time back from now, and "now" at the
     * right end. Labels never overlap; the step grows until they fit.
     */
    public static String timeMarks(double spanSec, int width) {
        char[] line = new char[Math.max(0, width)];
        java.util.Arrays.fill(line, ' ');
        if (width < 4 || !(spanSec > 0)) return new String(line);
        place(line, width - 3, "now");
        double[] steps = {5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600};
        for (double step : steps) {
            int marks = (int) Math.floor(spanSec / step);
            if (marks == 0) break;
            // about 8 characters per label: enough room for every mark of this step?
            if (marks * 8 > width) continue;
            for (int k = 1; k <= marks; k++) {
                double back = k * step;
                int col = (int) Math.round((1 - back / spanSec) * (width - 1));
                String label = "-" + (back >= 60 && back % 60 == 0 ? (int) (back / 60) + "m" : (int) back + "s");
                int at = Math.clamp(col - label.length() / 2, 0, width - label.length());
                if (at + label.length() < width - 4) place(line, at, label);
            }
            break;
        }
        return new String(line);
    }

    private static void place(char[] line, int at, String s) {
        for (int i = 0; i < s.length() && at + i < line.length; i++) if (at + i >= 0) line[at + i] = s.charAt(i);
    }

    private static String pad(String s, int width) {
        if (s.length() >= width) return s.substring(0, width);
        return " ".repeat(width - s.length()) + s;
    }
}
