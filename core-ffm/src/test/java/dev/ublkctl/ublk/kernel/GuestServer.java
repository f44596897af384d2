package dev.ublkctl.ublk.kernel;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.Libc;
import dev.ublkctl.ublk.IoDesc;
import dev.ublkctl.ublk.UblkDriver;
import dev.ublkctl.ublk.UblkQueue;
import dev.ublkctl.ublk.uapi.UblkUapi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A minimal ublk server for the guest tests: one thread per queue, each opening its queue
 * through the {@link UblkDriver} interface and serving it with a {@link Target} until the
 * device is stopped. It exercises the kernel driver on its own, without the engine's dispatcher.
 */
final class GuestServer implements AutoCloseable {

    /** What serves the bytes: returns bytes done or -errno. */
    interface Target extends AutoCloseable {
        int serve(int op, long offset, int len, MemorySegment buf);

        @Override
        default void close() {}
    }

    /** Completes everything; reads return zeros. */
    static final class NullTarget implements Target {
        public int serve(int op, long offset, int len, MemorySegment buf) {
            if (op == UblkUapi.IO_OP_READ) buf.asSlice(0, len).fill((byte) 0);
            return op == UblkUapi.IO_OP_READ || op == UblkUapi.IO_OP_WRITE ? len : 0;
        }
    }

    /** Keeps the data in memory. */
    static final class RamTarget implements Target {
        private final Arena arena = Arena.ofShared();
        private final MemorySegment data;

        RamTarget(long size) { data = arena.allocate(size, 4096); }

        public int serve(int op, long offset, int len, MemorySegment buf) {
            switch (op) {
                case UblkUapi.IO_OP_READ -> MemorySegment.copy(data, offset, buf, 0, len);
                case UblkUapi.IO_OP_WRITE -> MemorySegment.copy(buf, 0, data, offset, len);
                case UblkUapi.IO_OP_DISCARD, UblkUapi.IO_OP_WRITE_ZEROES -> data.asSlice(offset, len).fill((byte) 0);
                case UblkUapi.IO_OP_FLUSH -> { return 0; }
                default -> { return -Errno.EOPNOTSUPP; }
            }
            return op == UblkUapi.IO_OP_READ || op == UblkUapi.IO_OP_WRITE ? len : 0;
        }

        @Override
        public void close() { arena.close(); }
    }

    /** Reads and writes a backing file with pread/pwrite; flush is fsync, discard punches holes. */
    static final class LoopTarget implements Target {
        private final int fd;

        LoopTarget(String path, long size) {
            fd = Libc.open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0600);
            Libc.ftruncate(fd, size);
        }

        public int serve(int op, long offset, int len, MemorySegment buf) {
            try {
                switch (op) {
                    case UblkUapi.IO_OP_READ -> {
                        int done = 0;
                        while (done < len) {
                            long n = Libc.pread(fd, buf.asSlice(done), len - done, offset + done);
                            if (n == 0) { buf.asSlice(done, len - done).fill((byte) 0); break; }
                            done += (int) n;
                        }
                        return len;
                    }
                    case UblkUapi.IO_OP_WRITE -> {
                        int done = 0;
                        while (done < len) done += (int) Libc.pwrite(fd, buf.asSlice(done), len - done, offset + done);
                        return len;
                    }
                    case UblkUapi.IO_OP_FLUSH -> { Libc.fsync(fd); return 0; }
                    case UblkUapi.IO_OP_DISCARD, UblkUapi.IO_OP_WRITE_ZEROES -> {
                        Libc.fallocate(fd, Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE, offset, len);
                        return 0;
                    }
                    default -> { return -Errno.EOPNOTSUPP; }
                }
            } catch (dev.ublkctl.sys.SyscallException e) {
                return -e.errno();
            }
        }

        @Override
        public void close() { Libc.close(fd); }
    }

    final AtomicLong reads = new AtomicLong(), writes = new AtomicLong(), readBytes = new AtomicLong(),
            writeBytes = new AtomicLong(), flushes = new AtomicLong(), discards = new AtomicLong(), errors = new AtomicLong();

    private final UblkDriver drv;
    private final int devId;
    private final Target target;
    private final List<Thread> threads = new ArrayList<>();
    private final List<UblkQueue> queues = new ArrayList<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    /** Set to end the queue loops of a device that was never started (nothing will abort them). */
    private volatile boolean quit;
    private boolean started;

    /** Opens every queue on its own thread and waits until all of them have armed their tags. */
    GuestServer(UblkDriver drv, int devId, int nrQueues, Target target) throws InterruptedException {
        this.drv = drv;
        this.devId = devId;
        this.target = target;
        CountDownLatch armed = new CountDownLatch(nrQueues);
        for (int q = 0; q < nrQueues; q++) {
            int qid = q;
            Thread t = Thread.ofPlatform().name("ublk" + devId + "-q" + q).daemon().start(() -> serve(qid, armed));
            threads.add(t);
        }
        if (!armed.await(60, TimeUnit.SECONDS)) throw new IllegalStateException("queues did not arm within 60 s");
        if (failure.get() != null) throw new IllegalStateException("queue failed to open", failure.get());
    }

    /** START_DEV, from this (non-queue) thread. */
    void start() {
        drv.startDevice(devId);
        started = true;
    }

    /** The device became LIVE without {@link #start} (END_USER_RECOVERY): stop it on close. */
    void adoptStarted() { started = true; }

    private void serve(int qid, CountDownLatch armed) {
        UblkQueue q;
        try {
            q = drv.openQueue(devId, qid);
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
            armed.countDown();
            return;
        }
        synchronized (queues) { queues.add(q); }
        armed.countDown();
        int maxIo = (int) q.ioBuffer(0).byteSize();
        try {
            UblkQueue.Handler h = new UblkQueue.Handler() {
                @Override
                public void onRequest(int tag) {
                    MemorySegment d = q.descriptors();
                    int op = IoDesc.op(d, tag);
                    long off = IoDesc.startSector(d, tag) << 9;
                    int len = IoDesc.nrSectors(d, tag) << 9;
                    int res;
                    if ((op == UblkUapi.IO_OP_READ || op == UblkUapi.IO_OP_WRITE) && len > maxIo) {
                        res = -Errno.EINVAL;
                    } else {
                        res = target.serve(op, off, len, q.ioBuffer(tag));
                    }
                    count(op, len, res);
                    q.commit(tag, res);
                }

                @Override
                public void onServerCompletion(long userData, int res, int flags) {
                    throw new IllegalStateException("this server submits no SQEs of its own");
                }

                @Override
                public boolean serverBusy() { return false; }
            };
            while (!quit && q.processEvents(h, true)) { /* serve */ }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        } finally {
            q.close();
        }
    }

    private void count(int op, int len, int res) {
        if (res < 0) { errors.incrementAndGet(); return; }
        switch (op) {
            case UblkUapi.IO_OP_READ -> { reads.incrementAndGet(); readBytes.addAndGet(len); }
            case UblkUapi.IO_OP_WRITE -> { writes.incrementAndGet(); writeBytes.addAndGet(len); }
            case UblkUapi.IO_OP_FLUSH -> flushes.incrementAndGet();
            default -> discards.incrementAndGet();
        }
    }

    /** Waits for the queue threads to end (after STOP_DEV); true when all did. */
    boolean awaitEnd(long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        for (Thread t : threads) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) return false;
            t.join(left);
            if (t.isAlive()) return false;
        }
        return true;
    }

    Throwable failure() { return failure.get(); }

    List<String> queueErrors() {
        List<String> out = new ArrayList<>();
        synchronized (queues) {
            for (UblkQueue q : queues)
                if (q instanceof KernelQueue kq && kq.lastError() != null) out.add(kq.lastError());
        }
        return out;
    }

    /** Stops the device if it was started, waits for the queues to end, closes the target. */
    @Override
    public void close() throws InterruptedException {
        if (started) {
            started = false;
            drv.stopDevice(devId);
        } else {
            quit = true;
            synchronized (queues) { queues.forEach(UblkQueue::wake); }
        }
        if (!awaitEnd(60_000)) throw new IllegalStateException("queue threads did not end within 60 s after STOP_DEV");
        target.close();
    }
}
