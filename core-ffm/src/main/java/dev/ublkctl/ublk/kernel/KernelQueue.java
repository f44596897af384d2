package dev.ublkctl.ublk.kernel;

import dev.ublkctl.sys.Libc;
import dev.ublkctl.ublk.UblkQueue;
import dev.ublkctl.ublk.uapi.DevInfo;
import dev.ublkctl.ublk.uapi.IoCommand;
import dev.ublkctl.ublk.uapi.UblkFeature;
import dev.ublkctl.ublk.uapi.UblkLayouts;
import dev.ublkctl.ublk.uapi.UblkUapi;
import dev.ublkctl.uring.IoUring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.ublkctl.ublk.uapi.UblkLayouts.*;

/**
 * One hardware queue of a real ublk device, served by the thread that opened it: the kernel
 * binds the queue to the task that sends its first FETCH_REQ, so every method but
 * {@link #wake()} must run on that thread.
 *
 * <p>Opening maps the queue's descriptor array from {@code /dev/ublkcN} (read-only, the exact
 * length the kernel wants), makes the queue's io_uring and per-tag I/O buffers, and submits
 * FETCH_REQ for every tag, so START_DEV can complete. Requests then arrive through
 * {@link #processEvents}; the server answers each with {@link #commit} (COMMIT_AND_FETCH_REQ).
 * WRITEs on a NEED_GET_DATA device are first completed with NEED_GET_DATA to get the data. On a
 * USER_COPY device the commands carry no address: WRITE data is pread from the char device
 * before the handler sees the request, READ data pwritten to it at commit.
 * After STOP_DEV every armed tag comes back with {@link UblkUapi#IO_RES_ABORT}; once all are
 * retired, {@code processEvents} returns false and the queue can be closed.
 *
 * <p>The server may put its own SQEs on {@link #ring()} with user data that has
 * {@link UblkQueue#SERVER_UD} set; their completions reach {@link UblkQueue.Handler#onServerCompletion}.
 */
public final class KernelQueue implements UblkQueue {
    /** user_data of the eventfd read that {@link #wake()} completes. */
    private static final long WAKE_UD = 1L << 62;
    /** user_data bit marking a NEED_GET_DATA command (the tag is in the low bits). */
    private static final long GET_DATA_UD = 1L << 61;

    private enum TagState { FETCHING, ACTIVE, GETTING_DATA, RETIRED }

    private final int devId, qid, depth, cdevFd, maxIoBufBytes;
    /** UBLK_F_USER_COPY: commands carry no buffer address; the server copies with pread/pwrite. */
    private final boolean userCopy;
    private final boolean ioctlEncode;
    private final MemorySegment descs;
    private final IoUring ring;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffers;
    private final MemorySegment cmd;
    private final TagState[] state;
    private final int wakeFd;
    private final MemorySegment wakeBuf;
    private final AtomicBoolean wakeArmed = new AtomicBoolean();
    private final Thread owner;
    private int retired;
    private String lastErrorText;
    private volatile boolean closed;
    /** Set when the device is given up without ever being started: no abort will come. */
    private volatile boolean abandoned;
    private final Object wakeLock = new Object();

    private KernelQueue(int cdevFd, DevInfo info, int qid, boolean ioctlEncode) {
        if (qid < 0 || qid >= info.nrHwQueues())
            throw new IllegalArgumentException("queue " + qid + " out of range: device has " + info.nrHwQueues());
        this.devId = info.devId();
        this.qid = qid;
        this.depth = info.queueDepth();
        this.cdevFd = cdevFd;
        this.maxIoBufBytes = info.maxIoBufBytes();
        this.ioctlEncode = ioctlEncode;
        this.owner = Thread.currentThread();
        long page = Libc.pageSize();
        MemorySegment d = null;
        IoUring r = null;
        int efd = -1;
        MemorySegment buffersOrNull;
        try {
            d = Libc.mmap(MemorySegment.NULL, UblkUapi.descLength(depth, page), Libc.PROT_READ,
                    Libc.MAP_SHARED | Libc.MAP_POPULATE, cdevFd, UblkUapi.descOffset(qid, page));
            // room for every tag's command plus the server's own I/O
            r = IoUring.create(new IoUring.Params(Integer.highestOneBit(Math.max(depth, 8) * 2 - 1) * 2));
            efd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
            // the buffers too: an allocation failure must not leave the ring, the mapping and the eventfd open
            buffersOrNull = arena.allocate((long) depth * maxIoBufBytes, page);
        } catch (RuntimeException | OutOfMemoryError e) {
            if (efd >= 0) Libc.close(efd);
            if (r != null) r.close();
            if (d != null) Libc.munmap(d);
            arena.close();
            throw e;
        }
        descs = d;
        ring = r;
        wakeFd = efd;
        userCopy = info.has(UblkFeature.USER_COPY);
        // with USER_COPY the buffers are still ours: data moves by pread/pwrite on the char device
        buffers = buffersOrNull;
        cmd = arena.allocate(IO_CMD);
        wakeBuf = IoUring.DISCARD_8;   // may be written after close: never freed
        state = new TagState[depth];
        for (int t = 0; t < depth; t++) {
            state[t] = TagState.FETCHING;
            prepCmd(IoCommand.FETCH_REQ, t, 0, t);
        }
        armWake();
        ring.submit();
    }

    /**
     * Opens queue {@code qid} on the calling thread, which from now on serves it. Every
     * FETCH_REQ is submitted before this returns.
     */
    public static KernelQueue open(int cdevFd, DevInfo info, int qid, boolean ioctlEncode) {
        return new KernelQueue(cdevFd, info, qid, ioctlEncode);
    }

    public int devId() { return devId; }
    @Override public int queueId() { return qid; }
    @Override public int depth() { return depth; }
    public int maxIoBufBytes() { return maxIoBufBytes; }
    @Override public IoUring ring() { return ring; }

    /** The descriptor array, {@code depth} {@code ublksrv_io_desc} by tag (read-only). */
    @Override public MemorySegment descriptors() { return descs; }

    /** The I/O buffer of a tag: WRITE data arrives here, READ data must be put here before commit. */
    @Override public MemorySegment ioBuffer(int tag) {
        checkTag(tag);
        return buffers.asSlice((long) tag * maxIoBufBytes, maxIoBufBytes);
    }

    public int opFlags(int tag) { return descs.get(ValueLayout.JAVA_INT, tag * IO_DESC.byteSize() + DESC_OP_FLAGS); }

    public int op(int tag) { return opFlags(tag) & 0xff; }

    public int nrSectors(int tag) { return descs.get(ValueLayout.JAVA_INT, tag * IO_DESC.byteSize() + DESC_NR_SECTORS); }

    public long startSector(int tag) { return descs.get(ValueLayout.JAVA_LONG, tag * IO_DESC.byteSize() + DESC_START_SECTOR); }

    /** Tags the kernel has retired (aborted) so far. */
    public int retired() { return retired; }

    /** Whether every tag is retired: the device was stopped (or the queue failed). */
    public boolean aborted() { return retired == depth; }

    /** The last unexpected command result, or null. */
    public String lastError() { return lastErrorText; }

    /**
     * Submits pending commits and server SQEs, then delivers ready completions. With
     * {@code wait}, blocks until at least one arrives (or {@link #wake()}). Returns false
     * once every tag is retired and the handler is not busy: the serving loop ends.
     */
    @Override
    public boolean processEvents(Handler h, boolean wait) {
        checkOwner();
        if ((aborted() || abandoned) && !h.serverBusy()) return false;
        // one io_uring_enter per round: it submits the commits and server SQEs the previous
        // round prepared and waits; what this round prepares goes out with the next call
        boolean block = wait && ring.cqReady() == 0;
        ring.submitAndWait(block ? 1 : 0);
        ring.reap((ud, res, flags) -> complete(h, ud, res, flags));
        if (!wait && ring.pending() > 0) ring.submit();
        return !((aborted() || abandoned) && !h.serverBusy());
    }

    /**
     * Ends the serving loop of a queue whose device never started (STOP_DEV aborts nothing
     * then): {@link #processEvents} returns false and {@link #close()} lets the kernel cancel
     * the armed fetches. Any thread.
     */
    public void abandon() {
        abandoned = true;
        wake();
    }

    private void complete(Handler h, long ud, int res, int flags) {
        if ((ud & SERVER_UD) != 0) {
            h.onServerCompletion(ud, res, flags);
            return;
        }
        if (ud == WAKE_UD) {
            wakeArmed.set(false);
            if (!aborted()) armWake();
            return;
        }
        int tag = (int) (ud & 0xffff);
        if (res == UblkUapi.IO_RES_OK) {
            state[tag] = TagState.ACTIVE;
            if (userCopy && op(tag) == UblkUapi.IO_OP_WRITE && !copyIn(tag)) return;
            h.onRequest(tag);
        } else if (res == UblkUapi.IO_RES_NEED_GET_DATA && (ud & GET_DATA_UD) == 0) {
            // WRITE on a NEED_GET_DATA device: hand the kernel the buffer to copy the data into
            state[tag] = TagState.GETTING_DATA;
            prepCmd(IoCommand.NEED_GET_DATA, tag, 0, tag | GET_DATA_UD);
        } else {
            if (res != UblkUapi.IO_RES_ABORT) {
                IoCommand c = (ud & GET_DATA_UD) != 0 ? IoCommand.NEED_GET_DATA : IoCommand.COMMIT_AND_FETCH_REQ;
                lastErrorText = new UblkCommandException(c.uapiName(), "dev " + devId + ", queue " + qid + ", tag " + tag, -res)
                        .getMessage();
            }
            if (state[tag] != TagState.RETIRED) {
                state[tag] = TagState.RETIRED;
                retired++;
            }
        }
    }

    /**
     * Completes the request at {@code tag} with {@code result} (bytes done, or -errno) and
     * re-arms the tag. The command is sent by the next {@link #processEvents}.
     */
    @Override
    public void commit(int tag, int result) {
        checkOwner();
        checkTag(tag);
        if (state[tag] != TagState.ACTIVE) {
            if (state[tag] == TagState.RETIRED) return;    // aborted meanwhile: nothing to answer
            throw new IllegalStateException("tag " + tag + " of queue " + qid + " has no request to commit (" + state[tag] + ")");
        }
        if (userCopy && result > 0 && op(tag) == UblkUapi.IO_OP_READ) result = copyOut(tag, result);
        state[tag] = TagState.FETCHING;
        prepCmd(IoCommand.COMMIT_AND_FETCH_REQ, tag, result, tag);
    }

    /** USER_COPY: fetches a WRITE's data from the kernel; on failure the request is failed here. */
    private boolean copyIn(int tag) {
        int len = nrSectors(tag) << 9;
        try {
            if (len > maxIoBufBytes) throw new dev.ublkctl.sys.SyscallException("pread", "request of " + len + " bytes", dev.ublkctl.sys.Errno.EINVAL);
            long done = 0;
            while (done < len) {
                long n = Libc.pread(cdevFd, ioBuffer(tag).asSlice(done), len - done, UblkUapi.userCopyOffset(qid, tag) + done);
                if (n == 0) throw new dev.ublkctl.sys.SyscallException("pread", "short user copy", dev.ublkctl.sys.Errno.EIO);
                done += n;
            }
            return true;
        } catch (dev.ublkctl.sys.SyscallException e) {
            state[tag] = TagState.FETCHING;
            prepCmd(IoCommand.COMMIT_AND_FETCH_REQ, tag, -e.errno(), tag);
            return false;
        }
    }

    /** USER_COPY: hands a READ's data to the kernel before the commit; returns the result to commit. */
    private int copyOut(int tag, int result) {
        try {
            long done = 0;
            while (done < result) {
                long n = Libc.pwrite(cdevFd, ioBuffer(tag).asSlice(done), result - done, UblkUapi.userCopyOffset(qid, tag) + done);
                if (n == 0) return -dev.ublkctl.sys.Errno.EIO;
                done += n;
            }
            return result;
        } catch (dev.ublkctl.sys.SyscallException e) {
            return -e.errno();
        }
    }

    private void prepCmd(IoCommand c, int tag, int result, long ud) {
        cmd.set(ValueLayout.JAVA_SHORT, IOCMD_Q_ID, (short) qid);
        cmd.set(ValueLayout.JAVA_SHORT, IOCMD_TAG, (short) tag);
        cmd.set(ValueLayout.JAVA_INT, IOCMD_RESULT, result);
        cmd.set(ValueLayout.JAVA_LONG, IOCMD_ADDR, userCopy ? 0 : buffers.address() + (long) tag * maxIoBufBytes);
        ring.sqe().prepUringCmd(cdevFd, c.opcode(ioctlEncode), cmd).userData(ud);
    }

    @Override
    public boolean prepareWait() {
        checkOwner();
        if (!aborted()) armWake();
        // new requests and wake-ups arrive as CQEs on the ring: submitting the commits is all it takes
        ring.submit();
        return ring.cqReady() == 0;
    }

    @Override
    public void endWait() { }

    private void armWake() {
        if (wakeArmed.compareAndSet(false, true)) ring.sqe().prepRead(wakeFd, wakeBuf, 8, 0).userData(WAKE_UD);
    }

    /** Makes a blocked {@link #processEvents} return soon; safe from any thread. */
    @Override
    public void wake() {
        // under the lock: close() must not free the eventfd (whose number could be reused) meanwhile
        synchronized (wakeLock) {
            if (closed) return;
            Libc.eventfdSignal(wakeFd);
        }
    }

    private void checkTag(int tag) {
        if (tag < 0 || tag >= depth) throw new IllegalArgumentException("tag " + tag + " out of range 0.." + (depth - 1));
    }

    private void checkOwner() {
        if (Thread.currentThread() != owner)
            throw new IllegalStateException("queue " + qid + " of device " + devId + " belongs to thread " + owner.getName());
    }

    /**
     * Releases the ring, the descriptor mapping and the buffers. Closing a queue whose tags
     * are still armed makes the kernel cancel them (a dead server, as far as it can tell).
     */
    @Override
    public void close() {
        synchronized (wakeLock) {
            if (closed) return;
            closed = true;
            Libc.close(wakeFd);
        }
        ring.close();
        Libc.munmap(descs);
        arena.close();
    }

    public boolean isClosed() { return closed; }

    @Override
    public String toString() { return "ublk dev " + devId + " queue " + qid + " (depth " + depth + ", " + retired + " retired)"; }
}
