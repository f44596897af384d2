package dev.ublkctl.engine.load;

import java.time.Duration;
import java.util.Optional;

/** Outcome of a verify run: blocks written and read back, and the first mismatch (lowest offset) if any. */
public record VerifyResult(long blocks, long bytes, Duration elapsed, Optional<Mismatch> firstMismatch) {
    public boolean ok() { return firstMismatch.isEmpty(); }

    /**
     * The first byte that differs.
     *
     * @param blockOffset  device offset of the verify block
     * @param byteInBlock  index of the first differing byte in the block
     * @param deviceOffset {@code blockOffset + byteInBlock}
     * @param expected     expected byte (0..255), or -1 when the block could not be read
     * @param actual       byte read (0..255), or the negative errno of a failed read
     * @param reason       what the block's header says happened
     */
    public record Mismatch(long blockOffset, int byteInBlock, long deviceOffset, int expected, int actual, String reason) {}
}
