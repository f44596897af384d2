package dev.ublkctl.target;

import java.nio.file.Path;
import java.util.List;

/** What a device serves, with kublk's parameters. */
public sealed interface TargetConfig {
    /** "null", "loop" or "stripe". */
    String name();

    /** Prefix of a backing "file" that is another device of the same engine: {@code ublk:N} (stacking). */
    String UBLK_PREFIX = "ublk:";

    /** The device id if {@code backing} names another device ({@code ublk:N}), else -1. */
    static int ublkDevice(Path backing) {
        String s = backing.toString();
        if (!s.startsWith(UBLK_PREFIX) || s.length() == UBLK_PREFIX.length() || s.length() > UBLK_PREFIX.length() + 9) return -1;
        for (int i = UBLK_PREFIX.length(); i < s.length(); i++) if (!Character.isDigit(s.charAt(i))) return -1;
        return Integer.parseInt(s.substring(UBLK_PREFIX.length()));
    }

    /** Completes every I/O at once; reads return whatever the request buffer holds. */
    record Null(long size) implements TargetConfig {
        /** kublk's null target size. */
        public static final long DEFAULT_SIZE = 250L << 30;

        public Null() { this(DEFAULT_SIZE); }

        public Null {
            if (size <= 0 || size % 4096 != 0) throw new IllegalArgumentException("null target size must be a positive multiple of 4096, got " + size);
        }

        @Override public String name() { return "null"; }
    }

    /** One backing file (or {@code ublk:N}, another device); the device has its size. */
    record Loop(Path file) implements TargetConfig {
        public Loop {
            if (file == null) throw new IllegalArgumentException("loop target needs a backing file");
        }

        @Override public String name() { return "loop"; }
    }

    /** 1..4 backing files (or {@code ublk:N} devices, not mixed with files) striped in chunks (a power of two, 4 KiB..512 KiB). */
    record Stripe(List<Path> files, int chunkSize) implements TargetConfig {
        public static final int DEFAULT_CHUNK = 64 << 10, MIN_CHUNK = 4 << 10, MAX_CHUNK = 512 << 10, MAX_FILES = 4;

        public Stripe(List<Path> files) { this(files, DEFAULT_CHUNK); }

        public Stripe {
            files = List.copyOf(files);
            if (files.isEmpty() || files.size() > MAX_FILES)
                throw new IllegalArgumentException("stripe target needs 1.." + MAX_FILES + " backing files, got " + files.size());
            if (chunkSize < MIN_CHUNK || chunkSize > MAX_CHUNK || Integer.bitCount(chunkSize) != 1)
                throw new IllegalArgumentException("stripe chunk must be a power of two in 4 KiB..512 KiB, got " + chunkSize);
        }

        @Override public String name() { return "stripe"; }
    }
}
