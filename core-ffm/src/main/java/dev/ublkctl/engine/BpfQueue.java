package dev.ublkctl.engine;

import dev.ublkctl.bpf.vm.VmContext;
import dev.ublkctl.bpf.vm.VmFault;
import dev.ublkctl.bpf.vm.VmProgram;
import dev.ublkctl.sys.Errno;
import dev.ublkctl.ublk.IoDesc;
import dev.ublkctl.ublk.UblkQueue;
import dev.ublkctl.uring.IoUring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

import static dev.ublkctl.engine.BpfLayouts.*;

/**
 * An attached program on one queue: the RFC's driver side of ublk-bpf, run on the queue thread.
 *
 * <p>Per tag it keeps a {@code struct ublk_bpf_io} (in VM memory, read-only for programs; {@code iod}
 * points at the tag's descriptor) and the RFC's reference count: 2 at prep (submission + completion),
 * +1 per attached aio; {@code ublk_bpf_complete_io} drops the completion reference once (later calls
 * can only turn a success into the first error), detaching an aio drops its reference, and the end of
 * dispatch drops the submission one. At zero {@code release_io_cmd} runs and the request completes.
 * bpf aio are slots in VM memory; a submitted aio is an io_uring SQE on the queue ring against one of
 * the device's backing files, and its CQE runs the {@code bpf_aio_complete_ops} callback.
 *
 * <p>Nothing a program does can hang a request: an I/O left queued with no completion and no aio
 * attached, or an aio the callback forgets to detach, is finished by the engine with -EIO and logged.
 */
final class BpfQueue implements ProgramQueue {
    private static final Logger LOG = Logger.getLogger(BpfQueue.class.getName());
    /** Most CONTINUE rounds per I/O (each covers ≥ 512 bytes, so this only bounds absurd programs). */
    static final int MAX_ROUNDS = 1 << 16;
    private static final long FAULTED = Long.MIN_VALUE + 7;
    /** Linux errno the RFC fails a bad CONTINUE byte count with. */
    static final int EREMOTEIO = 121;

    private final UblkProgram prog;
    private final QueueWorker w;
    private final int qid, devId, depth;
    private final VmContext ctx;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment ios, aios;
    private final long iosAddr, descAddr, aiosAddr;
    private final int iosRid, aiosRid;
    private final int[] allowedFds;
    private final IoUring ring;

    // per tag
    private final int[] ref, res, attached;
    private final boolean[] prepped, completed, forwarded;
    private int held;

    // aio slots
    private final int nAio;
    private final int[] freeAio;
    private int freeTop;
    private static final byte A_FREE = 0, A_ALLOC = 1, A_SUBMITTED = 2, A_DONE = 3;
    private final byte[] aState;
    private final int[] aTag, aOff, aSize, aOp, aFd, aFlags, aDone, aLen;
    private final long[] aPos;
    private int aioInFlight;

    // releases that reached zero while a program ran: finished after the run
    private final int[] pendingRelease;
    private int pendingCount;
    private int running;

    BpfQueue(UblkProgram prog, QueueWorker w, int devId, int depth, int maxIoBytes, List<Integer> fds, IoUring ring) {
        this.prog = prog;
        this.w = w;
        this.qid = w.queueId();
        this.devId = devId;
        this.depth = depth;
        this.ring = ring;
        this.allowedFds = fds.stream().mapToInt(Integer::intValue).toArray();
        ctx = new VmContext(qid);
        ios = arena.allocate(IO_SIZE * depth, 8);
        MemorySegment descs = w.descriptors();
        descAddr = ctx.addRegion(descs.asSlice(0, IoDesc.SIZE * depth), false, "ublksrv_io_desc[] of queue " + qid);
        iosAddr = ctx.addRegion(ios, false, "ublk_bpf_io[] of queue " + qid);
        iosRid = (int) (iosAddr >>> 32);
        for (int t = 0; t < depth; t++) ios.set(ValueLayout.JAVA_LONG, t * IO_SIZE + IO_IOD, descAddr + t * IoDesc.SIZE);
        // enough aio for every tag to split its largest I/O into 4 KiB pieces, plus one fsync per file
        nAio = (int) Math.min(1 << 16, (long) depth * (maxIoBytes / 4096 + 4));
        aios = arena.allocate(AIO_SIZE * nAio, 8);
        aiosAddr = ctx.addRegion(aios, false, "bpf_aio[] of queue " + qid);
        aiosRid = (int) (aiosAddr >>> 32);
        freeAio = new int[nAio];
        for (int i = 0; i < nAio; i++) freeAio[i] = nAio - 1 - i;
        freeTop = nAio;
        aState = new byte[nAio];
        aTag = new int[nAio];
        aOff = new int[nAio];
        aSize = new int[nAio];
        aOp = new int[nAio];
        aFd = new int[nAio];
        aFlags = new int[nAio];
        aDone = new int[nAio];
        aLen = new int[nAio];
        aPos = new long[nAio];
        ref = new int[depth];
        res = new int[depth];
        attached = new int[depth];
        prepped = new boolean[depth];
        completed = new boolean[depth];
        forwarded = new boolean[depth];
        pendingRelease = new int[depth];
        ctx.setHost(this);
    }

    // ------------------------------------------------------------------ running programs

    /** The struct_ops argument array, reused: no allocation per run. */
    private final long[] args = new long[2];

    private long run(VmProgram p, long a0, long a1) {
        running++;
        long t0 = System.nanoTime();
        try {
            args[0] = a0;
            args[1] = a1;
            return prog.engine.run(p, ctx, ctx.setArgs(args), 0, 0, 0, 0);
        } catch (VmFault f) {
            LOG.log(Level.WARNING, "device " + devId + " queue " + qid + ": " + f.getMessage());
            return FAULTED;
        } finally {
            w.stats.progRun(System.nanoTime() - t0);
            if (running == 1 && unsubmitted > 0) releaseLeakedAios(p);
            if (--running == 0) drainReleases();
        }
    }

    /** Aio slots allocated and neither submitted nor released yet. */
    private int unsubmitted;

    /**
     * A program that returns still holding an aio it neither submitted nor released has leaked it
     * (the kernel's verifier refuses such a program: bpf_aio_alloc's reference must be released or
     * handed on). Left alone, the I/O it is attached to would wait forever; release it, which fails
     * that I/O with -EIO.
     */
    private void releaseLeakedAios(VmProgram p) {
        for (int s = 0; s < nAio && unsubmitted > 0; s++) {
            if (aState[s] != A_ALLOC) continue;
            LOG.warning("device " + devId + " queue " + qid + ": " + p.name() + " returned holding bpf_aio #" + s
                    + " (neither submitted nor released)" + (aTag[s] >= 0 ? "; failing tag " + aTag[s] + " with EIO" : "; released"));
            if (aTag[s] >= 0) completeIo(aTag[s], -Errno.EIO);
            free(s);
        }
    }

    private long ioAddr(int tag) { return iosAddr + tag * IO_SIZE; }

    private void mirror(int tag) {
        long b = tag * IO_SIZE;
        ios.set(ValueLayout.JAVA_LONG, b + IO_FLAGS, (prepped[tag] ? 1L << IO_PREP : 0) | (completed[tag] ? 1L << IO_COMPLETED : 0));
        ios.set(ValueLayout.JAVA_INT, b + IO_REF, ref[tag]);
        ios.set(ValueLayout.JAVA_INT, b + IO_RES, res[tag]);
    }

    @Override
    public void dispatch(int tag, boolean bounce) {
        if (bounce && prepped[tag]) {
            // the program still holds pieces of this I/O: a bounce cannot restart it
            completeIo(tag, -Errno.EIO);
            return;
        }
        // ublk_bpf_prep_io
        prepped[tag] = true;
        completed[tag] = false;
        forwarded[tag] = false;
        res[tag] = 0;
        ref[tag] = 2;
        attached[tag] = 0;
        mirror(tag);
        held++;
        w.programHold(tag);

        int total = w.totalBytes(tag);
        int done = 0, err = 0;
        boolean handled = false, redirect = false;
        VmProgram[] cbs = bounce
                ? new VmProgram[]{prog.queueIoCmd != null ? prog.queueIoCmd : prog.queueIoCmdDaemon}
                : callbacks();
        outer:
        for (VmProgram cb : cbs) {
            if (cb == null) continue;
            redirect = false;
            for (int round = 0; ; round++) {
                if (round == MAX_ROUNDS) { err = -Errno.E2BIG; break outer; }
                long ret = run(cb, ioAddr(tag), done);
                if (ret == FAULTED) { err = -Errno.EFAULT; break outer; }
                int disp = (int) (ret >>> DISPOSITION_SHIFT);
                long bytes = ret & 0xffff_ffffL;
                if (disp == QUEUED) { handled = true; break outer; }
                if (disp == REDIRECT) { redirect = true; break; }
                if (disp == CONTINUE) {
                    if (bytes == 0 || (bytes & 511) != 0) { err = -EREMOTEIO; break outer; }
                    if (bytes > total - done) { err = -Errno.ENOSPC; break outer; }
                    done += (int) bytes;
                    w.stats.splitPart();
                    if (done >= total) { handled = true; break outer; }
                    continue;
                }
                err = -Errno.EINVAL; // unknown disposition
                break outer;
            }
            if (done > 0) break; // part of the I/O is queued in BPF: no second callback
        }
        if (cbs.length == 0 || (!handled && err == 0 && !redirect)) redirect = true; // no callback: the RFC's stub redirects
        if (err != 0) {
            completeIo(tag, err);
        } else if (handled) {
            w.stats.bpfHandled();
        } else if (done == 0 && bounce) {
            completeIo(tag, -Errno.EIO); // bounced back and still not handled: the RFC fails it
        } else if (done == 0) {
            // not handled: clear PREP, drop both references, then the server gets the I/O
            forwarded[tag] = true;
            prepped[tag] = false;
            decRef(tag);
            decRef(tag);
            w.serve(tag, 0);
            return;
        }
        decRef(tag); // the submission reference
        checkStuck(tag);
        if (err == 0 && !handled && done > 0) w.serve(tag, done); // the rest goes to the Java target
    }

    private VmProgram[] callbacks;

    /** queue_io_cmd (blk-mq context) first, then queue_io_cmd_daemon (server context), as the RFC runs them. */
    private VmProgram[] callbacks() {
        UblkProgram p = prog;
        if (callbacks == null) {
            if (p.queueIoCmd != null && p.queueIoCmdDaemon != null) callbacks = new VmProgram[]{p.queueIoCmd, p.queueIoCmdDaemon};
            else if (p.queueIoCmd != null) callbacks = new VmProgram[]{p.queueIoCmd};
            else if (p.queueIoCmdDaemon != null) callbacks = new VmProgram[]{p.queueIoCmdDaemon};
            else callbacks = new VmProgram[0];
        }
        return callbacks;
    }

    /** The request can never complete: finish it rather than hang. */
    private void checkStuck(int tag) {
        if (running == 0 && ref[tag] > 0 && !completed[tag] && attached[tag] == 0 && !forwarded[tag] && prepped[tag]) {
            LOG.warning("device " + devId + " queue " + qid + " tag " + tag + ": " + prog.name()
                    + " left the I/O queued with no completion and no aio; failing it with EIO");
            completeIo(tag, -Errno.EIO);
        }
    }

    private void completeIo(int tag, int r) {
        if (!completed[tag]) {
            completed[tag] = true;
            res[tag] = r;
            mirror(tag);
            decRef(tag);
        } else if (r < 0 && res[tag] >= 0) {
            res[tag] = r; // first error wins
            mirror(tag);
        }
    }

    private void decRef(int tag) {
        if (--ref[tag] > 0) {
            mirror(tag);
            return;
        }
        if (ref[tag] < 0) throw new IllegalStateException("tag " + tag + " reference count underflow");
        mirror(tag);
        if (running > 0) pendingRelease[pendingCount++] = tag;
        else finish(tag);
    }

    private void drainReleases() {
        while (pendingCount > 0) finish(pendingRelease[--pendingCount]);
    }

    /** Reference zero: release_io_cmd, then the request's program hold ends. */
    private void finish(int tag) {
        if (prog.releaseIoCmd != null) run(prog.releaseIoCmd, ioAddr(tag), 0);
        boolean c = completed[tag];
        int r = res[tag];
        if (!c && !forwarded[tag]) {
            c = true;
            r = -Errno.EIO; // the program dropped the I/O without completing it
            LOG.warning("device " + devId + " queue " + qid + " tag " + tag + ": released without completion; EIO");
        }
        prepped[tag] = false;
        mirror(tag);
        held--;
        w.programRelease(tag, c, r);
    }

    // ------------------------------------------------------------------ kfuncs

    int tagOf(long io, String fn) throws VmFault {
        long off = io - iosAddr;
        if ((io >>> 32) != iosRid || off < 0 || off % IO_SIZE != 0 || off / IO_SIZE >= depth)
            throw VmFault.helper(fn + ": 0x" + Long.toHexString(io) + " is not a struct ublk_bpf_io of queue " + qid);
        return (int) (off / IO_SIZE);
    }

    private int ownedTag(long io, String fn) throws VmFault {
        int tag = tagOf(io, fn);
        if (!prepped[tag]) throw VmFault.helper(fn + ": the I/O at tag " + tag + " is not held by the program");
        return tag;
    }

    long getIod(long io) throws VmFault { return descAddr + tagOf(io, "ublk_bpf_get_iod") * IoDesc.SIZE; }

    long queueIdOf(long io) throws VmFault { tagOf(io, "ublk_bpf_get_queue_id"); return qid; }

    long devIdOf(long io) throws VmFault { tagOf(io, "ublk_bpf_get_dev_id"); return devId; }

    void completeIoKfunc(long io, int r) throws VmFault { completeIo(ownedTag(io, "ublk_bpf_complete_io"), r); }

    private int slotOf(long aio, String fn) throws VmFault {
        long off = aio - aiosAddr;
        if ((aio >>> 32) != aiosRid || off < 0 || off % AIO_SIZE != 0 || off / AIO_SIZE >= nAio)
            throw VmFault.helper(fn + ": 0x" + Long.toHexString(aio) + " is not a struct bpf_aio");
        int s = (int) (off / AIO_SIZE);
        if (aState[s] == A_FREE) throw VmFault.helper(fn + ": bpf_aio 0x" + Long.toHexString(aio) + " was released");
        return s;
    }

    private long aioAddr(int s) { return aiosAddr + s * AIO_SIZE; }

    long allocAio(int op, int flags) {
        if (op < 0 || op >= AIO_OP_LAST || (flags & AIO_OP_MASK) != 0 || freeTop == 0) return 0; // NULL
        int s = freeAio[--freeTop];
        aState[s] = A_ALLOC;
        unsubmitted++;
        aTag[s] = -1;
        aOp[s] = op;
        aSize[s] = 0;
        aios.asSlice(s * AIO_SIZE, AIO_SIZE).fill((byte) 0);
        aios.set(ValueLayout.JAVA_INT, s * AIO_SIZE + AIO_OPF, op | flags);
        return aioAddr(s);
    }

    long attachAio(long io, int off, int bytes, long aio) throws VmFault {
        int tag = ownedTag(io, "ublk_bpf_attach_and_prep_aio");
        int s = slotOf(aio, "ublk_bpf_attach_and_prep_aio");
        if (aTag[s] >= 0) return -Errno.EBUSY;
        if (off < 0 || bytes < 0 || (long) off + bytes > w.totalBytes(tag)) return -Errno.EINVAL;
        if (prog.aioComplete == null) return -Errno.EINVAL; // no bpf_aio_complete_ops to finish it
        aTag[s] = tag;
        aOff[s] = off;
        aSize[s] = bytes;
        long b = s * AIO_SIZE;
        aios.set(ValueLayout.JAVA_INT, b + AIO_BYTES, bytes);
        aios.set(ValueLayout.JAVA_INT, b + AIO_BVEC_OFF, off);
        aios.set(ValueLayout.JAVA_LONG, b + AIO_OPS, 1L); // non-NULL: ops attached
        aios.set(ValueLayout.JAVA_LONG, b + AIO_PRIVATE, io);
        attached[tag]++;
        ref[tag]++;
        mirror(tag);
        return 0;
    }

    void detachAio(long aio) throws VmFault {
        int s = slotOf(aio, "ublk_bpf_dettach_and_complete_aio");
        // the I/O's buffer is still in use by the transfer: completing the I/O now would hand it back early
        if (aState[s] == A_SUBMITTED) throw VmFault.helper("ublk_bpf_dettach_and_complete_aio: the aio is still in flight");
        detach(s);
    }

    private void detach(int s) {
        int tag = aTag[s];
        if (tag < 0) return;
        aTag[s] = -1;
        aios.set(ValueLayout.JAVA_LONG, s * AIO_SIZE + AIO_PRIVATE, 0L);
        attached[tag]--;
        decRef(tag);
    }

    long ioOfAio(long aio) throws VmFault {
        int s = slotOf(aio, "ublk_bpf_acquire_io_from_aio");
        return aTag[s] < 0 ? 0 : ioAddr(aTag[s]);
    }

    void releaseAio(long aio) throws VmFault {
        int s = slotOf(aio, "bpf_aio_release");
        if (aState[s] == A_SUBMITTED) throw VmFault.helper("bpf_aio_release: the aio is still in flight");
        free(s);
    }

    private void free(int s) {
        if (aTag[s] >= 0) {
            LOG.warning("device " + devId + " queue " + qid + ": aio released while attached to tag " + aTag[s] + "; detaching");
            detach(s);
        }
        if (aState[s] == A_ALLOC) unsubmitted--;
        aState[s] = A_FREE;
        freeAio[freeTop++] = s;
    }

    long submitAio(long aio, int fd, long pos, int bytes, int ioFlags) throws VmFault {
        int s = slotOf(aio, "bpf_aio_submit");
        if (aState[s] == A_SUBMITTED) return -Errno.EBUSY;
        if (aTag[s] < 0) return -Errno.EINVAL; // aio->ops not set: never attached
        int op = aOp[s];
        if ((op == AIO_READ || op == AIO_WRITE) && Integer.compareUnsigned(bytes, aSize[s]) > 0) return -Errno.EINVAL;
        if (!allowed(fd)) return -Errno.EBADF; // only the device's backing files
        // FSYNC has no position (a flush's sector is (u64)-1, which programs pass on as pos).
        if (pos < 0 && op != AIO_FSYNC) return -Errno.EINVAL;
        aState[s] = A_SUBMITTED;
        unsubmitted--;
        aFd[s] = fd;
        aPos[s] = pos;
        aLen[s] = bytes;
        aDone[s] = 0;
        aFlags[s] = ioFlags;
        aios.set(ValueLayout.JAVA_LONG, s * AIO_SIZE + AIO_KI_POS, pos);
        aios.set(ValueLayout.JAVA_INT, s * AIO_SIZE + AIO_KI_FLAGS, ioFlags);
        issue(s);
        aioInFlight++;
        w.stats.aioSubmitted();
        return 0;
    }

    private boolean allowed(int fd) {
        for (int f : allowedFds) if (f == fd) return true;
        return false;
    }

    private long bufAddr(int s) { return w.queue.ioBuffer(aTag[s]).address() + aOff[s]; }

    private void issue(int s) {
        long ud = UblkQueue.SERVER_UD | AIO_UD | s;
        int left = aLen[s] - aDone[s];
        switch (aOp[s]) {
            case AIO_READ -> ring.sqe().prepRead(aFd[s], bufAddr(s) + aDone[s], left, aPos[s] + aDone[s]).userData(ud);
            case AIO_WRITE -> ring.sqe().prepWrite(aFd[s], bufAddr(s) + aDone[s], left, aPos[s] + aDone[s]).userData(ud);
            case AIO_FSYNC -> ring.sqe().prepFsync(aFd[s], 0).userData(ud);
            default -> ring.sqe().prepFallocate(aFd[s], aFlags[s], aPos[s], aLen[s]).userData(ud);
        }
    }

    @Override
    public void onAioCompletion(long userData, int r) {
        int s = (int) (userData & 0xffff_ffffL);
        if (s < 0 || s >= nAio || aState[s] != A_SUBMITTED) {
            LOG.warning("stray aio completion 0x" + Long.toHexString(userData));
            return;
        }
        int op = aOp[s];
        if (r > 0 && (op == AIO_READ || op == AIO_WRITE) && aDone[s] + r < aLen[s]) {
            aDone[s] += r;
            issue(s); // short transfer: the rest
            return;
        }
        if (r >= 0 && (op == AIO_READ || op == AIO_WRITE)) {
            if (r == 0 && aDone[s] < aLen[s]) {
                if (op == AIO_READ) {
                    if (aTag[s] >= 0)
                        MemorySegment.ofAddress(bufAddr(s) + aDone[s]).reinterpret(aLen[s] - aDone[s]).fill((byte) 0);
                } else {
                    r = -Errno.EIO;
                }
            }
            if (r >= 0) r = aLen[s];
        }
        aioInFlight--;
        aState[s] = A_DONE;
        w.stats.aioCompleted();
        int tag = aTag[s];
        run(prog.aioComplete, aioAddr(s), r);
        running++; // hold releases until the fix-ups below are done
        if (aTag[s] >= 0) {
            LOG.warning("device " + devId + " queue " + qid + ": " + prog.aioOpsName().orElse("aio callback")
                    + " did not detach its aio; detaching");
            detach(s);
        }
        if (aState[s] != A_FREE) free(s);
        if (--running == 0) drainReleases();
        if (tag >= 0 && prepped[tag]) checkStuck(tag);
    }

    @Override
    public int inFlight() { return aioInFlight + held; }

    @Override
    public void abort() {
        ctx.setHost(null);
        // the queue loop ends only when no aio is in flight, so nothing can touch this memory any more
        if (aioInFlight == 0) arena.close();
    }
}
