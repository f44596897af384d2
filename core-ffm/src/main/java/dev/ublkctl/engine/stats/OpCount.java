package dev.ublkctl.engine.stats;

/** I/Os and bytes of one op. */
public record OpCount(long ios, long bytes) {
    public static final OpCount ZERO = new OpCount(0, 0);

    public OpCount plus(OpCount o) { return new OpCount(ios + o.ios, bytes + o.bytes); }

    public OpCount minus(OpCount o) { return new OpCount(ios - o.ios, bytes - o.bytes); }
}
