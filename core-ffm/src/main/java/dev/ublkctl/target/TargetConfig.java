package dev.ublkctl.target;

import java.nio.file.Path;
import java.util.List;

/** What a device serves, with kublk's parameters. */
public sealed interface TargetConfig {
    TargetType type();

    /** Prefix of a backing "file" that is another device of the same engine: {@code ublk:N} (stacking). */
    String UBLK_PREFIX = "ublk:";

    /** The device id if {@code backing} names another device ({@code ublk:N}), else -1. */
    static int ublkDevice(Path backing) {
        String s = backing.toString();
        if (!s.startsWith(UBLK_PREFIX) || s.length() == UBLK_PREFIX.length() || s.length() > UBLK_PREFIX.length() + 9) return -1;
        for (int i = UBLK_PREFIX.length(); i < s.length(); i++) if (!Character.isDigit(s.charAt(i))) return -1;
        return Integer.parseInt(s.substring(UBLK_PREFIX.length()));
    }

    /** Whether a backing names an NBD export ({@code nbd://...} or {@code nbd+unix://...}) rather than a file. */
    static boolean isNbdUrl(String backing) { return backing.startsWith("nbd://") || backing.startsWith("nbd+unix://"); }

    /**
     * Storage on NBD exports, through ublkctl's own client: {@code nbd} is one export, {@code stripe}
     * chunks over 1..4 of them (stacking through NBD: other daemons' exports).
     *
     * @param urls        the exports, in stripe order
     * @param chunkSize   stripe chunk ({@link Integer#MAX_VALUE} for one export)
     * @param connections connections per export when the server allows several (multi-conn)
     */
    record Nbd(TargetType type, List<String> urls, int chunkSize, int connections) implements TargetConfig {
        public static final int DEFAULT_CONNECTIONS = 4;

        public Nbd(TargetType type, List<String> urls, int chunkSize) { this(type, urls, chunkSize, DEFAULT_CONNECTIONS); }

        public Nbd {
            urls = List.copyOf(urls);
            if (type != TargetType.NBD && type != TargetType.STRIPE) throw new IllegalArgumentException("NBD exports back nbd or stripe, not " + type);
            if (urls.isEmpty() || urls.size() > Stripe.MAX_FILES)
                throw new IllegalArgumentException(type + " target needs 1.." + Stripe.MAX_FILES + " NBD URLs, got " + urls.size());
            for (String u : urls) {
                var p = dev.ublkctl.nbd.NbdUri.parse(u);   // a bad URL says what is wrong with it
                // the daemon runs elsewhere: a relative socket would be resolved against its directory
                if (p.socket() != null && !p.socket().isAbsolute())
                    throw new IllegalArgumentException("the socket of " + u + " must be an absolute path");
            }
            if (urls.stream().distinct().count() != urls.size()) throw new IllegalArgumentException("an export is named twice: " + urls);
            if (connections < 1 || connections > 16) throw new IllegalArgumentException("connections must be 1..16, got " + connections);
        }
    }

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

    /** One backing file (or {@code ublk:N}, another device); the device has its size. */
    record Loop(Path file) implements TargetConfig {
        public Loop {
            if (file == null) throw new IllegalArgumentException("loop target needs a backing file");
        }

        @Override public TargetType type() { return TargetType.LOOP; }
    }

    /** A qcow2 image file (version 2 or 3; its backing chain is opened read-only); the device has its virtual size. */
    record Qcow2(Path file) implements TargetConfig {
        public Qcow2 {
            if (file == null) throw new IllegalArgumentException("qcow2 target needs an image file");
        }

        @Override public TargetType type() { return TargetType.QCOW2; }
    }

    /** 1..4 backing files (or {@code ublk:N} devices, not mixed with files) striped in chunks (a power of two, 4 KiB..512 KiB). */
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

        @Override public TargetType type() { return TargetType.FAULT_INJECT; }

        /**
         * kublk-style options as one spec, comma-separated, any subset:
         * {@code delay=DURATION} (ns, or with us/ms/s: {@code 200us}), {@code every=N} (the n-th
         * I/O of a queue fails; 0 none), {@code errno=EIO} (a name or a number; default EIO).
         */
        public static FaultInject parse(long size, String spec) {
            long delay = 0;
            int every = 0, errno = dev.ublkctl.sys.Errno.EIO;
            if (spec != null && !spec.isBlank()) {
                for (String part : spec.split(",")) {
                    String[] kv = part.trim().split("=", 2);
                    if (kv.length != 2) throw new IllegalArgumentException("fault spec '" + part + "': expected key=value (delay, every, errno)");
                    String v = kv[1].trim();
                    try {
                        switch (kv[0].trim()) {
                            case "delay" -> delay = duration(v);
                            case "every" -> every = Integer.parseInt(v);
                            case "errno" -> errno = v.chars().allMatch(Character::isDigit) ? Integer.parseInt(v) : errnoOf(v);
                            default -> throw new IllegalArgumentException("fault spec: unknown key '" + kv[0].trim() + "' (delay, every, errno)");
                        }
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("fault spec: '" + v + "' is not a number for " + kv[0].trim());
                    } catch (ArithmeticException e) {
                        throw new IllegalArgumentException("fault spec: " + kv[0].trim() + " '" + v + "' is out of range");
                    }
                }
            }
            return new FaultInject(size, delay, every, errno);
        }

        /** The canonical spec of this config (what {@link #parse} reads back). */
        public String spec() {
            return "delay=" + delayNs + ",every=" + failEvery + ",errno=" + dev.ublkctl.sys.Errno.name(-errno);
        }

        private static long duration(String v) {
            String n = v.replaceAll("[a-z]+$", "");
            long x = Long.parseLong(n);
            return switch (v.substring(n.length())) {
                case "", "ns" -> x;
                case "us" -> Math.multiplyExact(x, 1_000L);
                case "ms" -> Math.multiplyExact(x, 1_000_000L);
                case "s" -> Math.multiplyExact(x, 1_000_000_000L);
                default -> throw new IllegalArgumentException("fault spec: delay '" + v + "' (use ns, us, ms or s)");
            };
        }

        private static int errnoOf(String name) {
            for (int e = 1; e < 200; e++) if (dev.ublkctl.sys.Errno.name(-e).equals(name.toUpperCase(java.util.Locale.ROOT))) return e;
            throw new IllegalArgumentException("fault spec: unknown errno '" + name + "'");
        }
    }
}
