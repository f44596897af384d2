package dev.ublkctl.daemon;

import dev.ublkctl.engine.load.VerifyResult;

/**
 * The JSON of {@code device.verify}: {@code ok}, what was covered, and the first mismatch
 * (null when ok).
 */
public record VerifyView(int id, boolean ok, long offset, long blocks, long bytes, int blockSize, double elapsedSec,
                         Mismatch mismatch) {

    public record Mismatch(long deviceOffset, long blockOffset, int byteInBlock, int expected, int actual, String reason) { }

    static VerifyView of(int id, long offset, int bs, VerifyResult r) {
        Mismatch m = r.firstMismatch().map(x -> new Mismatch(x.deviceOffset(), x.blockOffset(), x.byteInBlock(),
                x.expected(), x.actual(), x.reason())).orElse(null);
        return new VerifyView(id, r.ok(), offset, r.blocks(), r.bytes(), bs, r.elapsed().toNanos() / 1e9, m);
    }
}
