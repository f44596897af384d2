package dev.ublkctl.target;

import java.nio.file.Path;
import java.util.List;

/** What a device serves, with kublk's parameters. */
public sealed interface TargetConfig {
    /** "null", "loop", "stripe" or "fault_inject". */
    String name();

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

    /** One backing file; the device has the file's size. */
    record Loop(Path file) implements TargetConfig {
        public Loop {
            if (file == null) throw new IllegalArgumentException("loop target needs a backing file");
        }

        @Override public String name() { return "loop"; }
    }

    /** 1..4 backing files striped in chunks (a power of two, 4 KiB..512 KiB). */
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

    /**
     * kublk's fault_inject target: a null device whose I/O completes after {@code delayNs} (an
     * io_uring timeout, so the queue keeps serving meanwhile), and every {@code failEvery}-th I/O
     * of a queue (0: none) fails with {@code -errno}: the error paths of the engine, the program,
     * bench, verify and exports, on demand.
     */
    record FaultInject(long size, long delayNs, int failEvery, int errno) implements TargetConfig {
        public static final long DEFAULT_SIZE = 1L << 30;
        public static final long MAX_DELAY_NS = 10_000_000_000L;

        public FaultInject {
            if (size <= 0 || size % 4096 != 0)
                throw new IllegalArgumentException("fault_inject target size must be a positive multiple of 4096, got " + size);
            if (delayNs < 0 || delayNs > MAX_DELAY_NS) throw new IllegalArgumentException("fault_inject delay must be 0..10 s, got " + delayNs + " ns");
            if (failEvery < 0) throw new IllegalArgumentException("fault_inject fail-every must be >= 0, got " + failEvery);
            if (errno <= 0 || errno > 4095) throw new IllegalArgumentException("fault_inject errno must be 1..4095, got " + errno);
        }

        @Override public String name() { return "fault_inject"; }
    }
}
