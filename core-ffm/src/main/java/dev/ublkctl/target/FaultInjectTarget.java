package dev.ublkctl.target;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.ublk.IoOp;
import dev.ublkctl.uring.IoUring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * {@link TargetConfig.FaultInject}: completes like null after a delay, and fails every n-th I/O of
 * a queue. The delay is an io_uring TIMEOUT per I/O, so many delayed I/Os overlap as on a slow
 * disk; the count is per queue, so which I/O fails is reproducible for a given submission order.
 */
public final class FaultInjectTarget implements Target {
    private final TargetConfig.FaultInject cfg;

    FaultInjectTarget(TargetConfig.FaultInject cfg) { this.cfg = cfg; }

    public TargetConfig.FaultInject config() { return cfg; }
    @Override public TargetType type() { return TargetType.FAULT_INJECT; }
    @Override public long size() { return cfg.size(); }
    @Override public List<Integer> fds() { return List.of(); }
    @Override public boolean supportsDiscard() { return true; }

    @Override
    public TargetQueue openQueue(IoUring ring, int depth, int maxIoBytes, PartCompleter done) {
        return new Queue(ring, depth, done);
    }

    @Override public void close() {}

    private final class Queue implements TargetQueue {
        private final IoUring ring;
        private final PartCompleter done;
        private final int[] result;
        /** One {@code __kernel_timespec} per tag; the kernel copies it when it takes the SQE. */
        private final MemorySegment timespecs;
        private long count;
        private int inFlight;

        Queue(IoUring ring, int depth, PartCompleter done) {
            this.ring = ring;
            this.done = done;
            this.result = new int[depth];
            // freed with the queue object: no SQE reads it after submission
            this.timespecs = Arena.ofAuto().allocate(16L * depth, 8);
        }

        @Override
        public void submit(int tag, IoOp op, long devOffset, int len, long bufAddr) {
            long n = ++count;
            int r = cfg.failEvery() > 0 && n % cfg.failEvery() == 0 ? -cfg.errno() : len;
            if (cfg.delayNs() == 0) {
                done.partDone(tag, r);
                return;
            }
            result[tag] = r;
            timespecs.set(ValueLayout.JAVA_LONG, 16L * tag, cfg.delayNs() / 1_000_000_000L);
            timespecs.set(ValueLayout.JAVA_LONG, 16L * tag + 8, cfg.delayNs() % 1_000_000_000L);
            ring.sqe().prepTimeout(timespecs.asSlice(16L * tag, 16)).userData(TargetQueue.userData(tag, 0));
            inFlight++;
        }

        @Override
        public void onCompletion(long userData, int res) {
            int tag = TargetQueue.tagOf(userData);
            inFlight--;
            // -ETIME is the timeout expiring; anything else (cancelled at stop) fails the I/O
            done.partDone(tag, res == -Errno.ETIME ? result[tag] : (res < 0 ? res : -Errno.EIO));
        }

        @Override public int inFlight() { return inFlight; }
    }
}
