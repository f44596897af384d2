package dev.ublkctl.ublk.kernel;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.Libc;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.BlockIoException;
import dev.ublkctl.ublk.IoCallback;
import dev.ublkctl.ublk.IoOp;
import dev.ublkctl.uring.IoUring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;

/**
 * In-process access to a live kernel device through its {@code /dev/ublkbN}, opened with
 * O_DIRECT and driven by one io_uring on its own thread: what bench and verify use on the
 * {@code kernel} backend. The requests really cross the block layer and the ublk driver.
 *
 * <p>At most {@code nrQueues × queueDepth} requests are in flight (a semaphore); the block layer
 * splits requests larger than the max I/O size itself. DISCARD and WRITE_ZEROES are
 * {@code fallocate} on the block device (PUNCH_HOLE / ZERO_RANGE, which the kernel turns into
 * those requests). Buffers must suit O_DIRECT: aligned to the logical block size.
 */
final class KernelBlockDevice implements BlockDevice, AutoCloseable {
    private static final long WAKE_UD = -1L;

    private record Req(IoOp op, long off, int len, long addr, IoCallback cb, long cookie) {}

    private final String path;
    private final long size;
    private final int lbs, nrQueues, depth, maxIo;
    private final int fd, wakeFd;
    private final IoUring ring;
    private final Semaphore slots;
    private final ConcurrentLinkedQueue<Req> incoming = new ConcurrentLinkedQueue<>();
    private final Req[] inFlight;
    private final Thread thread;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment wakeBuf = IoUring.DISCARD_8;   // may be written after close: never freed
    private final Object lock = new Object();
    private volatile boolean closing;
    private boolean closed;

    KernelBlockDevice(String path, long size, int lbs, int nrQueues, int depth, int maxIo) {
        this.path = path;
        this.size = size;
        this.lbs = lbs;
        this.nrQueues = nrQueues;
        this.depth = depth;
        this.maxIo = maxIo;
        int total = nrQueues * depth;
        fd = Libc.open(path, Libc.O_RDWR | Libc.O_DIRECT | Libc.O_CLOEXEC);
        int efd = -1;
        IoUring r = null;
        try {
            efd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
            r = IoUring.create(new IoUring.Params(Integer.highestOneBit(total + 1) * 2));
        } catch (RuntimeException e) {
            if (efd >= 0) Libc.close(efd);
            Libc.close(fd);
            arena.close();
            throw e;
        }
        wakeFd = efd;
        ring = r;
        slots = new Semaphore(total);
        inFlight = new Req[total];
        thread = Thread.ofPlatform().daemon().name("ublkb-io " + path).start(this::loop);
    }

    @Override public long size() { return size; }
    @Override public int logicalBlockSize() { return lbs; }
    @Override public int nrQueues() { return nrQueues; }
    @Override public int queueDepth() { return depth; }
    @Override public int maxIoBytes() { return maxIo; }

    @Override
    public int submit(int queue, IoOp op, long offset, int length, MemorySegment buf, IoCallback cb, long cookie, boolean block)
            throws InterruptedException {
        if (closing) return -Errno.ENODEV;
        if (op != IoOp.FLUSH) {
            if (offset < 0 || length <= 0 || offset % lbs != 0 || length % lbs != 0) return -Errno.EINVAL;
            if (offset + length > size) return -Errno.EIO;
        }
        if (op == IoOp.WRITE_SAME) return -Errno.EOPNOTSUPP;
        if (op.hasData() && (buf == null || buf.byteSize() < length)) return -Errno.EINVAL;
        if (block) slots.acquire();
        else if (!slots.tryAcquire()) return FULL;
        if (closing) {
            slots.release();
            return -Errno.ENODEV;
        }
        incoming.add(new Req(op, offset, length, op.hasData() ? buf.address() : 0, cb, cookie));
        wake();
        return 0;
    }

    private void wake() {
        synchronized (lock) {
            if (closed) return;
            Libc.eventfdSignal(wakeFd);
        }
    }

    /** The I/O thread: turns requests into SQEs and completions into callbacks. */
    private void loop() {
        int inFlightCount = 0;
        boolean wakeArmed = false;
        try {
            while (true) {
                Req q;
                while ((q = incoming.poll()) != null) {
                    int slot = freeSlot();
                    inFlight[slot] = q;
                    inFlightCount++;
                    switch (q.op()) {
                        case READ -> ring.sqe().prepRead(fd, q.addr(), q.len(), q.off()).userData(slot);
                        case WRITE -> ring.sqe().prepWrite(fd, q.addr(), q.len(), q.off()).userData(slot);
                        case FLUSH -> ring.sqe().prepFsync(fd, 0).userData(slot);
                        case DISCARD -> ring.sqe().prepFallocate(fd, Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE,
                                q.off(), q.len()).userData(slot);
                        case WRITE_ZEROES -> ring.sqe().prepFallocate(fd, Libc.FALLOC_FL_ZERO_RANGE | Libc.FALLOC_FL_KEEP_SIZE,
                                q.off(), q.len()).userData(slot);
                        default -> throw new IllegalStateException("unexpected op " + q.op());
                    }
                }
                if (closing && inFlightCount == 0 && incoming.isEmpty()) return;
                if (!wakeArmed) {
                    ring.sqe().prepRead(wakeFd, wakeBuf, 8, 0).userData(WAKE_UD);
                    wakeArmed = true;
                }
                ring.submitAndWait(ring.cqReady() == 0 ? 1 : 0);
                int[] done = {0};
                boolean[] woke = {false};
                ring.reap((ud, res, flags) -> {
                    if (ud == WAKE_UD) {
                        woke[0] = true;
                        return;
                    }
                    Req r = inFlight[(int) ud];
                    inFlight[(int) ud] = null;
                    done[0]++;
                    slots.release();
                    int result = res;
                    // a short transfer at the end of a request is an I/O error for a block device
                    if (res >= 0 && r.op().hasData() && res != r.len()) result = -Errno.EIO;
                    else if (res >= 0 && !r.op().hasData()) result = r.op() == IoOp.FLUSH ? 0 : r.len();
                    try {
                        r.cb().done(r.cookie(), result);
                    } catch (RuntimeException e) {
                        // a callback's failure is its own; the device goes on
                    }
                });
                inFlightCount -= done[0];
                if (woke[0]) wakeArmed = false;
            }
        } finally {
            // fail whatever could not be sent so no caller waits forever
            Req q;
            while ((q = incoming.poll()) != null) {
                slots.release();
                q.cb().done(q.cookie(), -Errno.ENODEV);
            }
        }
    }

    private int freeSlot() {
        for (int i = 0; i < inFlight.length; i++) if (inFlight[i] == null) return i;
        throw new IllegalStateException("more requests in flight than slots");
    }

    @Override
    public CompletableFuture<Integer> io(IoOp op, long off, long len, MemorySegment buf) {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        if (len > Integer.MAX_VALUE) {
            f.completeExceptionally(new BlockIoException(op, off, len, Errno.EINVAL, "longer than 2 GiB"));
            return f;
        }
        IoCallback cb = (cookie, res) -> {
            if (res < 0) f.completeExceptionally(new BlockIoException(op, off, len, -res, path));
            else f.complete(res);
        };
        try {
            int r = submit(-1, op, off, (int) len, buf, cb, 0, true);
            if (r < 0) f.completeExceptionally(new BlockIoException(op, off, len, -r, "refused"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.completeExceptionally(e);
        }
        return f;
    }


    /**
     * Lets in-flight requests finish, ends the thread and closes the block device (which must
     * happen before DEL_DEV: an open block device keeps the ublk device alive).
     */
    @Override
    public void close() {
        closing = true;
        wake();
        try {
            thread.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) throw new IllegalStateException(path + ": I/O thread did not end within 60 s");
        synchronized (lock) {
            closed = true;
            Libc.close(wakeFd);
        }
        ring.close();
        Libc.close(fd);
        arena.close();
    }
}
