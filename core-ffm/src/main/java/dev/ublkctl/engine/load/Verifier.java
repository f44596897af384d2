package dev.ublkctl.engine.load;

import dev.ublkctl.engine.Device;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.BlockIoException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * The engine of {@code ublkctl verify}. Every block gets a 32-byte header — magic, its own device
 * offset, the run's generation, CRC32C of the payload, block size — and a payload derived from
 * (offset, generation). After writing the region it reads it back and reports the first byte that
 * differs, with what the header found there says (never written, misdirected, stale, corrupt).
 */
public final class Verifier {
    private Verifier() {}

    static final int HEADER_BYTES = 32;
    static final long MAGIC = 0x5946_5256_4b4c_4255L; // "UBLKVRFY" little-endian
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;

    public static VerifyResult run(Device dev, VerifySpec spec, Consumer<BenchProgress> progress) {
        BlockDevice blk = dev.block();
        int bs = spec.blockSize();
        if (bs % blk.logicalBlockSize() != 0 || spec.offset() % blk.logicalBlockSize() != 0)
            throw new IllegalArgumentException("verify offset and block size must be multiples of the logical block size "
                    + blk.logicalBlockSize());
        long len = spec.length() == 0 ? blk.size() - spec.offset() : spec.length();
        long blocks = len / bs;
        if (blocks <= 0 || spec.offset() + blocks * bs > blk.size())
            throw new IllegalArgumentException("verify region does not fit in the device (size " + blk.size() + ")");
        long t0 = System.nanoTime();
        int depth = (int) Math.min(spec.ioDepth(), blocks);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment[] bufs = new MemorySegment[depth];
            for (int i = 0; i < depth; i++) bufs[i] = arena.allocate(bs, 4096);
            MemorySegment expect = arena.allocate(bs, 8);
            long done = 0;
            // write phase
            for (long b = 0; !spec.readOnly() && b < blocks; b += depth) {
                List<CompletableFuture<Integer>> fs = new ArrayList<>(depth);
                for (int i = 0; i < depth && b + i < blocks; i++) {
                    long off = spec.offset() + (b + i) * bs;
                    fill(bufs[i], off, spec.generation());
                    fs.add(blk.write(off, bufs[i]));
                }
                for (int i = 0; i < fs.size(); i++) {
                    long off = spec.offset() + (b + i) * bs;
                    try {
                        fs.get(i).join();
                    } catch (CompletionException e) {
                        for (CompletableFuture<Integer> f : fs) f.exceptionally(x -> 0).join();
                        return new VerifyResult(blocks, done, Duration.ofNanos(System.nanoTime() - t0), Optional.of(
                                new VerifyResult.Mismatch(off, 0, off, -1, -errnoOf(e), "write failed: " + e.getCause().getMessage())));
                    }
                }
                done += (long) fs.size() * bs;
                report(progress, t0, done / bs, done);
            }
            // read phase, in order so the first mismatch is the lowest offset
            for (long b = 0; b < blocks; b += depth) {
                List<CompletableFuture<Integer>> fs = new ArrayList<>(depth);
                for (int i = 0; i < depth && b + i < blocks; i++) {
                    bufs[i].fill((byte) 0xA5);
                    fs.add(blk.read(spec.offset() + (b + i) * bs, bufs[i]));
                }
                Optional<VerifyResult.Mismatch> bad = Optional.empty();
                for (int i = 0; i < fs.size(); i++) {
                    long off = spec.offset() + (b + i) * bs;
                    try {
                        fs.get(i).join();
                        if (bad.isEmpty()) {
                            fill(expect, off, spec.generation());
                            bad = compare(expect, bufs[i], off, spec.generation());
                        }
                    } catch (CompletionException e) {
                        if (bad.isEmpty()) bad = Optional.of(new VerifyResult.Mismatch(off, 0, off, -1, -errnoOf(e),
                                "read failed: " + e.getCause().getMessage()));
                    }
                }
                done += (long) fs.size() * bs;
                report(progress, t0, done / bs, done);
                if (bad.isPresent()) return new VerifyResult(blocks, done, Duration.ofNanos(System.nanoTime() - t0), bad);
            }
            return new VerifyResult(blocks, done, Duration.ofNanos(System.nanoTime() - t0), Optional.empty());
        }
    }

    private static int errnoOf(CompletionException e) {
        return e.getCause() instanceof BlockIoException b ? b.errno() : dev.ublkctl.sys.Errno.EIO;
    }

    private static void report(Consumer<BenchProgress> p, long t0, long ios, long bytes) {
        if (p == null) return;
        long el = System.nanoTime() - t0;
        double s = Math.max(1, el) / 1e9;
        p.accept(new BenchProgress(Duration.ofNanos(el), ios, bytes, ios / s, bytes / s / 1e6));
    }

    /** Writes the block for device offset {@code off} into {@code buf}. */
    static void fill(MemorySegment buf, long off, long gen) {
        int bs = (int) buf.byteSize();
        long seed = Bench.mix64(off * 0x9E3779B97F4A7C15L ^ gen);
        for (int k = HEADER_BYTES; k + 8 <= bs; k += 8) buf.set(LONG, k, Bench.mix64(seed + k));
        CRC32C crc = new CRC32C();
        crc.update(buf.asSlice(HEADER_BYTES).asByteBuffer());
        buf.set(LONG, 0, MAGIC);
        buf.set(LONG, 8, off);
        buf.set(LONG, 16, gen);
        buf.set(INT, 24, (int) crc.getValue());
        buf.set(INT, 28, bs);
    }

    private static Optional<VerifyResult.Mismatch> compare(MemorySegment expect, MemorySegment got, long off, long gen) {
        long i = expect.mismatch(got);
        if (i < 0) return Optional.empty();
        int e = Byte.toUnsignedInt(expect.get(ValueLayout.JAVA_BYTE, i)), a = Byte.toUnsignedInt(got.get(ValueLayout.JAVA_BYTE, i));
        String reason;
        long magic = got.get(LONG, 0), hOff = got.get(LONG, 8), hGen = got.get(LONG, 16);
        if (magic != MAGIC) reason = "no verify header: block never written, or overwritten by something else";
        else if (hOff != off) reason = "block holds data written for offset " + hOff + " (misdirected I/O)";
        else if (hGen != gen) reason = "stale block from generation " + hGen + " (write lost)";
        else {
            CRC32C crc = new CRC32C();
            crc.update(got.asSlice(HEADER_BYTES).asByteBuffer());
            reason = (int) crc.getValue() != got.get(INT, 24) ? "payload corrupt (CRC32C mismatch)" : "header corrupt";
        }
        return Optional.of(new VerifyResult.Mismatch(off, (int) i, off + i, e, a, reason));
    }
}
