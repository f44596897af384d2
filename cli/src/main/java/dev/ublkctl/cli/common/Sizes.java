package dev.ublkctl.cli.common;

import picocli.CommandLine;

import java.util.Locale;

/** Sizes with units, as fio and ublk take them: 512, 4k, 4KiB, 1G, 1.5g, 2T (powers of 1024). */
public final class Sizes {
    private Sizes() {}

    public static long parse(String s) {
        if (s == null || s.isBlank()) throw new IllegalArgumentException("empty size");
        String t = s.trim().toLowerCase(Locale.ROOT);
        if (t.endsWith("ib")) t = t.substring(0, t.length() - 2);
        else if (t.endsWith("b")) t = t.substring(0, t.length() - 1);
        long mult = 1;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'k' -> mult = 1L << 10;
                case 'm' -> mult = 1L << 20;
                case 'g' -> mult = 1L << 30;
                case 't' -> mult = 1L << 40;
                case 'p' -> mult = 1L << 50;
                default -> { }
            }
            if (mult != 1) t = t.substring(0, t.length() - 1);
        }
        try {
            if (t.contains(".")) {
                double d = Double.parseDouble(t) * mult;
                if (d < 0 || d > Long.MAX_VALUE || Double.isNaN(d)) throw new NumberFormatException();
                return (long) d;
            }
            long v = Long.parseLong(t);
            if (v < 0) throw new NumberFormatException();
            return Math.multiplyExact(v, mult);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("bad size '" + s + "' (examples: 512, 4k, 64M, 1G)");
        }
    }

    /** 1073741824 → "1G", 1536 → "1.5K", 500 → "500B". */
    public static String format(long bytes) {
        if (bytes < 1024) return bytes + "B";
        String[] u = {"K", "M", "G", "T", "P", "E"};
        double v = bytes;
        int i = -1;
        while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
        if (v == Math.rint(v)) return String.format(Locale.ROOT, "%d%s", (long) v, u[i]);
        return String.format(Locale.ROOT, "%.1f%s", v, u[i]);
    }

    /** picocli converter: a bad size is a usage error naming the value. */
    public static final class Converter implements CommandLine.ITypeConverter<Long> {
        @Override public Long convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
