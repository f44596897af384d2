package dev.ublkctl.cli.common;

import java.util.Locale;

/** Nanoseconds for people: 850ns, 12.5us, 3.2ms, 1.50s. */
public final class Durations {
    private Durations() {}

    public static String ns(long ns) {
        if (ns < 1_000) return ns + "ns";
        if (ns < 1_000_000) return String.format(Locale.ROOT, "%.1fus", ns / 1e3);
        if (ns < 1_000_000_000) return String.format(Locale.ROOT, "%.1fms", ns / 1e6);
        return String.format(Locale.ROOT, "%.2fs", ns / 1e9);
    }
}
