package dev.ublkctl.engine.load;

/**
 * A write-then-read-back check of a region.
 *
 * @param offset     start (bytes, multiple of the logical block size)
 * @param length     bytes to cover (0: to the end of the device); rounded down to whole blocks
 * @param blockSize  bytes per verify block and per I/O (≥ 64, multiple of the logical block size)
 * @param ioDepth    I/Os in flight
 * @param generation tag written into every header, so stale data from an earlier run is told apart
 * @param readOnly   only read back and check what an earlier run with the same generation wrote
 */
public record VerifySpec(long offset, long length, int blockSize, int ioDepth, long generation, boolean readOnly) {
    public VerifySpec(long offset, long length, int blockSize, int ioDepth, long generation) {
        this(offset, length, blockSize, ioDepth, generation, false);
    }

    public VerifySpec {
        if (offset < 0 || length < 0) throw new IllegalArgumentException("offset and length must not be negative");
        if (blockSize < Verifier.HEADER_BYTES * 2) throw new IllegalArgumentException("verify block size must be at least 64, got " + blockSize);
        if (ioDepth < 1 || ioDepth > 4096) throw new IllegalArgumentException("iodepth must be 1..4096, got " + ioDepth);
    }

    public VerifySpec withReadOnly(boolean v) { return new VerifySpec(offset, length, blockSize, ioDepth, generation, v); }
}
