package dev.ublkctl.bench;

import dev.ublkctl.sys.Libc;
import dev.ublkctl.uring.IoUring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * 4 KiB random reads through {@link IoUring} at a fixed queue depth on one thread: the same job
 * as {@code fio --ioengine=io_uring --rw=randread --bs=4k --iodepth=64 --numjobs=1}.
 * Run by {@code scripts/bench-uring}, which runs fio on the same file beside it.
 *
 * <p>Arguments: FILE [depth=64] [seconds=10] [direct=1] [bs=4096]. Prints one line of key=value.
 */
public final class UringRandReadBench {
    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int depth = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        boolean direct = args.length <= 3 || args[3].equals("1");
        int bs = args.length > 4 ? Integer.parseInt(args[4]) : 4096;
        long blocks = Files.size(file) / bs;
        int fd = Libc.open(file.toString(), Libc.O_RDONLY | (direct ? Libc.O_DIRECT : 0));
        SplittableRandom rnd = new SplittableRandom(42);
        try (IoUring ring = IoUring.create(Integer.highestOneBit(depth * 2 - 1)); Arena a = Arena.ofConfined()) {
            MemorySegment bufs = a.allocate((long) depth * bs, 4096);
            ring.registerFiles(fd);
            MemorySegment[] slot = new MemorySegment[depth];
            for (int i = 0; i < depth; i++) {
                slot[i] = bufs.asSlice((long) i * bs, bs);
                ring.sqe().prepRead(0, slot[i], bs, rnd.nextLong(blocks) * bs).fixedFile(0).userData(i);
            }
            long[] done = {0};
            int[] errors = {0};
            IoUring.CompletionHandler onCqe = (ud, res, fl) -> {
                if (res != bs) errors[0]++;
                done[0]++;
                ring.sqe().prepRead(0, slot[(int) ud], bs, rnd.nextLong(blocks) * bs).fixedFile(0).userData(ud);
            };
            long warmEnd = System.nanoTime() + 2_000_000_000L;
            while (System.nanoTime() < warmEnd) {
                ring.submitAndWait(1);
                ring.reap(onCqe);
            }
            done[0] = 0;
            long t0 = System.nanoTime(), end = t0 + seconds * 1_000_000_000L, now;
            while ((now = System.nanoTime()) < end) {
                ring.submitAndWait(1);
                ring.reap(onCqe);
            }
            double secs = (now - t0) / 1e9;
            System.out.printf("engine=ublkctl-IoUring depth=%d bs=%d direct=%d seconds=%.1f ios=%d iops=%.0f errors=%d%n",
                    depth, bs, direct ? 1 : 0, secs, done[0], done[0] / secs, errors[0]);
        } finally {
            Libc.close(fd);
        }
    }
}
