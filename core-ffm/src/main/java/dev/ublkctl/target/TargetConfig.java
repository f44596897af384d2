package dev.ublkctl.target;

import java.nio.file.Path;
import java.util.List;

/** What a device serves, with kublk's parameters. */
public sealed interface TargetConfig {
    TargetType type();

    /** Completes every I/O at once; reads return whatever the request buffer holds. */
    record Null(long size) implements TargetConfig {
        /** kublk's null target size. */
        public static final long DEFAULT_SIZE = 250L << 30;

        public Null() { this(DEFAULT_SIZE); }

        public Null {
            if (size <= 0 || size % 4096 != 0) throw new IllegalArgumentException("null target size must be a positive multiple of 4096, got " + size);
        }

        @Override public TargetType type() { return TargetType.NULL; }
    }

    /** One backing file; the device has the file's size. */
    record Loop(Path file) implements TargetConfig {
        public Loop {
            if (file == null) throw new IllegalArgumentException("loop target needs a backing file");
        }

        @Override public TargetType type() { return TargetType.LOOP; }
    }

    /** 1..4 backing files striped in chunks (a power of two, 4 KiB..512 KiB). */
    record Stripe(List<Path> files, int chunkSize) implements TargetConfig {
        public static final int DEFAULT_CHUNK = 64 << 10, MIN_CHUNK = 4 << 10, MAX_CHUNK = 512 << 10, MAX_FILES = 4;

        public Stripe(List<Path> files) { this(files, DEFAULT_CHUNK); }

        public Stripe {
            files = List.copyOf(files);
            if (files.isEmpty() || files.size() > MAX_FILES)
                throw new IllegalArgumentException("stripe target needs 1.." + MAX_FILES + " backing files, got " + files.size());
            checkChunk(chunkSize);
        }

        /** The chunk if it is a power of two in MIN_CHUNK..MAX_CHUNK, else why not. */
        public static int checkChunk(long chunk) {
            if (chunk < MIN_CHUNK || chunk > MAX_CHUNK || Long.bitCount(chunk) != 1)
                throw new IllegalArgumentException("stripe chunk must be a power of two in 4 KiB..512 KiB, got " + chunk);
            return (int) chunk;
        }

        @Override public TargetType type() { return TargetType.STRIPE; }
    }
}
