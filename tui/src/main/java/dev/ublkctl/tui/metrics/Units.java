package dev.ublkctl.tui.metrics;

import java.util.Locale;

/** Short human forms of numbers for table cells; "-" for unknown (NaN). */
public final class Units {
    private Units() {}

    public static final String UNKNOWN = "-";

    /** 950, 12.3k, 4.56M, 1.2G: three significant digits at most. */
    public static String count(double v) {
        if (Double.isNaN(v)) return UNKNOWN;
        double a = Math.abs(v);
        if (a < 999.5) return a >= 100 || a == Math.rint(a) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
        String[] suf = {"k", "M", "G", "T", "P"};
        int i = -1;
        while (a >= 999.5 && i < suf.length - 1) {
            a /= 1000;
            v /= 1000;
            i++;
        }
        return (a >= 99.95 ? String.format(Locale.ROOT, "%.0f", v) : a >= 9.995 ? String.format(Locale.ROOT, "%.1f", v)
                : String.format(Locale.ROOT, "%.2f", v)) + suf[i];
    }

    /** Megabytes per second with one decimal (or none above 1000). */
    public static String mbps(double v) {
        if (Double.isNaN(v)) return UNKNOWN;
        return v >= 1000 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
    }

    /** Binary sizes: 512, 4.0K, 1.0G, 250G. */
    public static String bytes(long b) {
        if (b < 1024) return b + "B";
        String[] suf = {"K", "M", "G", "T", "P", "E"};
        double v = b;
        int i = -1;
        while (v >= 1024 && i < suf.length - 1) {
            v /= 1024;
            i++;
        }
        return (v >= 100 || v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v)) + suf[i];
    }

    /** Durations: 850ns, 12.3us, 4.5ms, 1.20s. */
    public static String nanos(double ns) {
        if (Double.isNaN(ns)) return UNKNOWN;
        if (ns < 1000) return String.format(Locale.ROOT, "%.0fns", ns);
        if (ns < 1e6) return String.format(Locale.ROOT, ns < 1e4 ? "%.2fus" : ns < 1e5 ? "%.1fus" : "%.0fus", ns / 1e3);
        if (ns < 1e9) return String.format(Locale.ROOT, ns < 1e7 ? "%.2fms" : ns < 1e8 ? "%.1fms" : "%.0fms", ns / 1e6);
        return String.format(Locale.ROOT, "%.2fs", ns / 1e9);
    }

    /** A 0..1 share as a whole percentage. */
    public static String percent(double share) {
        if (Double.isNaN(share)) return UNKNOWN;
        return String.format(Locale.ROOT, "%.0f%%", share * 100);
    }
}
