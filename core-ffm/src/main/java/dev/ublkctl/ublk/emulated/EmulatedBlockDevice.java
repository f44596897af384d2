package dev.ublkctl.ublk.emulated;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.BlockIoException;
import dev.ublkctl.ublk.DeviceInfo;
import dev.ublkctl.ublk.DeviceParams;
import dev.ublkctl.ublk.IoCallback;
import dev.ublkctl.ublk.IoOp;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The block front of an emulated device: checks requests as the block layer would, splits
 * them at the max I/O size and hands each part to a queue.
 */
final class EmulatedBlockDevice implements BlockDevice {
    private final EmulatedDriver.Dev dev;
    private final DeviceInfo info;
    private final DeviceParams params;
    private final long size;
    private final int lbs;

    EmulatedBlockDevice(EmulatedDriver.Dev dev) {
        this.dev = dev;
        this.info = dev.info;
        this.params = dev.params;
        this.size = params.sizeBytes();
        this.lbs = params.logicalBlockSize();
    }

    @Override public long size() { return size; }
    @Override public int logicalBlockSize() { return lbs; }
    @Override public int nrQueues() { return info.nrQueues(); }
    @Override public int queueDepth() { return info.queueDepth(); }
    @Override public int maxIoBytes() { return maxIo(); }

    @Override
    public Plug plug() { return SubmitPlug.start(); }

    private int maxIo() { return Math.min(info.maxIoBufBytes(), params.maxSectors() << 9); }

    /** 0 if the request is acceptable, else the positive errno the block layer would fail it with. */
    private int check(IoOp op, long offset, long length, MemorySegment buf) {
        if (op == null) return Errno.EOPNOTSUPP;
        if (dev.state != EmulatedDriver.State.LIVE) return Errno.ENODEV;
        if (op == IoOp.FLUSH) return 0;
        if ((op == IoOp.DISCARD || op == IoOp.WRITE_ZEROES || op == IoOp.WRITE_SAME) && !params.discard()) return Errno.EOPNOTSUPP;
        if (offset < 0 || length <= 0 || offset % lbs != 0 || length % lbs != 0) return Errno.EINVAL;
        if (offset + length > size || offset + length < 0) return Errno.EIO;
        if (op.hasData() && (buf == null || buf.byteSize() < length)) return Errno.EINVAL;
        if (op.hasData() && !dev.queues[0].accessible(buf)) return Errno.EINVAL;
        return 0;
    }

    /** Why {@link #check} refused a request (only built when reporting it). */
    private String why(int errno, IoOp op, long offset, long length, MemorySegment buf) {
        if (op == null) return "unsupported op";
        if (errno == Errno.ENODEV) return "device " + info.devId() + " is " + dev.state.name().toLowerCase();
        if (errno == Errno.EOPNOTSUPP) return "device does not support " + op;
        if (errno == Errno.EIO) return "past the end of the device (size " + size + ")";
        if (offset < 0 || length <= 0 || offset % lbs != 0 || length % lbs != 0)
            return "offset and length must be positive multiples of the logical block size " + lbs;
        if (buf == null || buf.byteSize() < length) return "buffer smaller than the length";
        return "buffer belongs to a confined arena; use a shared, auto or global arena or a heap segment";
    }

    private int queueFor(int queue) {
        int nq = info.nrQueues();
        if (queue < 0) return (int) (Thread.currentThread().threadId() % nq);
        if (queue >= nq) throw new IllegalArgumentException("queue " + queue + " out of range 0.." + (nq - 1));
        return queue;
    }

    @Override
    public int submit(int queue, IoOp op, long offset, int length, MemorySegment buf, IoCallback cb, long cookie, boolean block)
            throws InterruptedException {
        int errno = check(op, offset, op == IoOp.FLUSH ? 0 : length, buf);
        if (errno != 0) return -errno;
        return submitChecked(queueFor(queue), op, offset, op == IoOp.FLUSH ? 0 : length, buf, cb, cookie, block);
    }

    private int submitChecked(int q, IoOp op, long offset, long length, MemorySegment buf, IoCallback cb, long cookie,
                              boolean block) throws InterruptedException {
        EmulatedQueue queue = dev.queues[q];
        int max = maxIo();
        if (length <= max) return queue.submit(op, offset, (int) length, buf, cb, cookie, block);
        // Split as the block layer does at max_sectors; the parts complete into one result.
        int parts = (int) ((length + max - 1) / max);
        Split split = new Split(parts, cb, cookie);
        for (int i = 0; i < parts; i++) {
            long off = (long) i * max;
            int len = (int) Math.min(max, length - off);
            MemorySegment part = op.hasData() ? buf.asSlice(off, len) : null;
            int r;
            try {
                r = queue.submit(op, offset + off, len, part, split, i, block || i > 0);
            } catch (InterruptedException e) {
                split.refuse(parts - i, -Errno.EINTR);
                throw e;
            }
            if (r != 0) {
                if (i == 0) return r; // nothing was accepted: refuse the whole request
                split.refuse(parts - i, r == FULL ? -Errno.EAGAIN : r);
                return 0;
            }
        }
        return 0;
    }

    /** Joins the parts of a split request: one callback after the last part; the first error wins. */
    private static final class Split implements IoCallback {
        private final AtomicInteger remaining;
        private final AtomicInteger error = new AtomicInteger();
        private final AtomicLong bytes = new AtomicLong();
        private final IoCallback cb;
        private final long cookie;

        Split(int parts, IoCallback cb, long cookie) {
            this.remaining = new AtomicInteger(parts);
            this.cb = cb;
            this.cookie = cookie;
        }

        void refuse(int parts, int err) {
            error.compareAndSet(0, err);
            if (remaining.addAndGet(-parts) == 0) finish();
        }

        @Override
        public void done(long part, int result) {
            if (result < 0) error.compareAndSet(0, result);
            else bytes.addAndGet(result);
            if (remaining.decrementAndGet() == 0) finish();
        }

        private void finish() {
            int e = error.get();
            cb.done(cookie, e != 0 ? e : (int) Math.min(Integer.MAX_VALUE, bytes.get()));
        }
    }

    // ---------------------------------------------------------------- futures

    @Override
    public CompletableFuture<Integer> io(IoOp op, long offset, long length, MemorySegment buf) {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        int errno = check(op, offset, length, buf);
        if (errno != 0) {
            f.completeExceptionally(new BlockIoException(op, offset, length, errno, why(errno, op, offset, length, buf)));
            return f;
        }
        IoCallback cb = (c, res) -> {
            if (res >= 0) f.complete(res);
            else f.completeExceptionally(new BlockIoException(op, offset, length, -res,
                    res == -Errno.ENODEV ? "device stopped" : null));
        };
        try {
            int r = submitChecked(queueFor(-1), op, offset, length, buf, cb, 0, true);
            if (r != 0) f.completeExceptionally(new BlockIoException(op, offset, length, -r,
                    r == -Errno.ENODEV ? "device stopped" : null));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.completeExceptionally(new BlockIoException(op, offset, length, Errno.EINTR, "interrupted"));
        }
        return f;
    }

}
