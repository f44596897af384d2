package dev.ublkctl.ublk.kernel;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.Libc;
import dev.ublkctl.sys.SyscallException;
import dev.ublkctl.ublk.uapi.DevInfo;
import dev.ublkctl.ublk.uapi.UblkParams;

/**
 * One real ublk device from ADD_DEV to DEL_DEV, and the server's open {@code /dev/ublkcN}.
 *
 * <p>Order: {@link #add} (ADD_DEV, SET_PARAMS, open the char device) → on each serving thread
 * {@link #openQueue} → from another thread {@link #start} → I/O → {@link #stop} → queues end
 * and close → {@link #delete} (closes the char device first: DEL_DEV waits for that).
 */
public final class KernelDevice implements AutoCloseable {
    private final UblkControl ctl;
    private final DevInfo info;
    private final java.util.List<KernelQueue> queues = new java.util.concurrent.CopyOnWriteArrayList<>();
    private int cdevFd;
    private boolean started, deleted;

    private KernelDevice(UblkControl ctl, DevInfo info, int cdevFd) {
        this.ctl = ctl;
        this.info = info;
        this.cdevFd = cdevFd;
    }

    /** ADD_DEV + SET_PARAMS + open {@code /dev/ublkcN}; on failure the device is deleted again. */
    public static KernelDevice add(UblkControl ctl, DevInfo request, UblkParams params) {
        KernelDevice d = create(ctl, request);
        try {
            d.setParams(params);
            return d;
        } catch (RuntimeException e) {
            try {
                d.delete();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** ADD_DEV + open {@code /dev/ublkcN}; SET_PARAMS is still to come. */
    public static KernelDevice create(UblkControl ctl, DevInfo request) {
        DevInfo info = ctl.addDev(request);
        try {
            return new KernelDevice(ctl, info, openCharDev(info.charDevPath()));
        } catch (RuntimeException e) {
            try {
                ctl.delDev(info.devId());
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** SET_PARAMS (before {@link #start}). */
    public void setParams(UblkParams params) { ctl.setParams(id(), params); }

    /**
     * Opens an existing device's char device again (recovery: the old server is gone and
     * START_USER_RECOVERY was sent).
     */
    public static KernelDevice attach(UblkControl ctl, int devId) {
        DevInfo info = ctl.getDevInfo(devId);
        return new KernelDevice(ctl, info, openCharDev(info.charDevPath()));
    }

    /** devtmpfs creates the node shortly after ADD_DEV; give it up to 3 s as kublk does. */
    static int openCharDev(String path) {
        long deadline = System.nanoTime() + 3_000_000_000L;
        while (true) {
            try {
                return Libc.open(path, Libc.O_RDWR | Libc.O_CLOEXEC);
            } catch (SyscallException e) {
                if (e.errno() != Errno.ENOENT || System.nanoTime() > deadline) throw e;
                try {
                    Thread.sleep(10);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    public DevInfo info() { return info; }

    public int id() { return info.devId(); }

    public UblkControl control() { return ctl; }

    public String blockDevPath() { return info.blockDevPath(); }

    /** Opens queue {@code q}; call on the thread that will serve it. */
    public KernelQueue openQueue(int q) {
        if (cdevFd < 0) throw new IllegalStateException("device " + id() + " char device is closed");
        KernelQueue kq = KernelQueue.open(cdevFd, info, q, ctl.ioctlEncode());
        queues.removeIf(KernelQueue::isClosed);
        queues.add(kq);
        return kq;
    }

    /** Queues opened and not yet closed. */
    public int openQueues() {
        queues.removeIf(KernelQueue::isClosed);
        return queues.size();
    }

    /** START_DEV; every queue must be open (armed) and serving. Not from a queue thread. */
    public void start() {
        ctl.startDev(id(), Libc.getpid());
        started = true;
    }

    /**
     * STOP_DEV: the block device disappears and the queues' tags are aborted. A device that
     * was never started has no disk to remove and its fetches are not aborted: its queues are
     * told to end instead.
     */
    public void stop() {
        boolean wasStarted = started;
        ctl.stopDev(id());
        started = false;
        if (!wasStarted) {
            for (KernelQueue q : queues) if (!q.isClosed()) q.abandon();
        }
    }

    public boolean started() { return started; }

    /**
     * END_USER_RECOVERY: the recovering server (this process) has opened every queue again;
     * the kernel waits for all their fetches, then the device is LIVE and held I/O goes on.
     */
    public void endRecovery() {
        ctl.endUserRecovery(id(), Libc.getpid());
        started = true;
    }

    /** Closes the char device; the queues must be closed (their mappings hold it too). */
    public void closeCharDev() {
        if (cdevFd >= 0) {
            Libc.close(cdevFd);
            cdevFd = -1;
        }
    }

    /** Closes the char device, then DEL_DEV (which waits until nobody holds the device). */
    public void delete() {
        if (deleted) return;
        // DEL_DEV would wait forever on a queue's mapping: refuse instead of hanging
        if (openQueues() > 0)
            throw new IllegalStateException("device " + id() + " still has " + openQueues()
                    + " open queue(s): stop the device and close its queues before deleting it");
        closeCharDev();
        ctl.delDev(id());
        deleted = true;
    }

    /** Stops (if started) and deletes. The queues must have been closed. */
    @Override
    public void close() {
        RuntimeException first = null;
        if (started) {
            try { stop(); } catch (RuntimeException e) { first = e; }
        }
        try { delete(); } catch (RuntimeException e) {
            if (first == null) first = e; else first.addSuppressed(e);
        }
        if (first != null) throw first;
    }
}
