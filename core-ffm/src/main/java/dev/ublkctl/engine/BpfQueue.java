package dev.ublkctl.engine;

import dev.ublkctl.engine.stats.StatsRecorder;

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
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

import static dev.ublkctl.engine.BpfLayouts.*;

/**
 * An attached program on one queue: the RFC's driver side of ublk-bpf.
 *
 * <p>Per tag it keeps a {@code struct ublk_bpf_io} (in VM memory, read-only for programs; {@code iod}
 * points at the tag's descriptor) and the RFC's reference count: 2 at prep (submission + completion),
 * +1 per attached aio; {@code ublk_bpf_complete_io} drops the completion reference once (later calls
 * can only turn a success into the first error), detaching an aio drops its reference, and the end of
 * dispatch drops the submission one. At zero {@code release_io_cmd} runs and the request completes.
 *
 * <p>Where programs run: {@code queue_io_cmd} in the submitter's thread when the driver offers that
 * context ({@link #dispatch} mode {@link #SUBMIT}; the emulated driver's {@code SubmitHook}), else in
 * the serving thread; {@code queue_io_cmd_daemon}, aio callbacks of aio on the queue ring and the -EAGAIN
 * bounce in the serving thread. Each thread has its own {@link Runner} (VM context, argument array,
 * deferred releases); every runner maps the queue's objects at the same VM addresses. A tag's state is
 * touched by one thread at a time (the submitter, then whoever the request is handed to).
 *
 * <p>bpf aio are slots in VM memory; a submitted aio is an io_uring SQE against one of the device's
 * backing files. From the serving thread it goes on the queue ring. From a submitter it is held until
 * the program run ends (as a block plug), then put on this queue's submit ring under a lock with one
 * {@code io_uring_enter} for all of them; the serving thread keeps a poll of that ring armed on its own
 * ring, reaps its completions in batches and runs the callbacks — one hand-off, the one the kernel's
 * aio completion makes too.
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
    /** user_data bit of the poll of the submit ring (with AIO_UD), plus the instance in the low bits. */
    private static final long POLL_UD = 1L << 40;
    private static final int POLLIN = 1;
    private static final AtomicLong INSTANCES = new AtomicLong();
    private static final int RETIRED = 1 << 30;

    private final UblkProgram prog;
    private final QueueWorker w;
    private final int qid, devId, depth;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment ios, aios, descSlice;
    private final long iosAddr, descAddr, aiosAddr;
    private final int iosRid, aiosRid;
    private final int[] allowedFds;
    private final IoUring ring;
    private final Thread server;
    private final Runner serverRunner;
    private final ThreadLocal<Runner> runners = ThreadLocal.withInitial(() -> new Runner(false));
    private final VmProgram[] full, submit, daemon, bounce;

    // the submitter-context aio ring (null when programs never run in a submitter or have no aio callback)
    private final IoUring submitRing;
    private final Object submitLock = new Object();
    private final long pollUd;
    private final int[] reapSlot, reapRes;
    private int reapCount;
    private final IoUring.CompletionHandler reaper = this::reaped;
    private boolean aborted;

    // per tag (one thread at a time)
    private final int[] ref, res, attached;
    private final boolean[] prepped, completed, forwarded;

    // shared by the threads running the program
    private final AtomicInteger held = new AtomicInteger(), aioInFlight = new AtomicInteger();
    /** Dispatches in progress in submitters, plus {@link #RETIRED} once a new program replaces this one. */
    private final AtomicInteger users = new AtomicInteger();

    // aio slots (free list under its lock; a slot's state belongs to the thread holding the aio)
    private final int nAio;
    private final int[] freeAio;
    private int freeTop;
    private static final byte A_FREE = 0, A_ALLOC = 1, A_SUBMITTED = 2, A_DONE = 3;
    private final byte[] aState;
    private final int[] aTag, aOff, aSize, aOp, aFd, aFlags, aDone, aLen;
    private final long[] aPos;

    /**
     * @param submitContext whether {@code queue_io_cmd} runs in submitters' threads (the driver took
     *                      the engine's submit hook)
     */
    BpfQueue(UblkProgram prog, QueueWorker w, int devId, int depth, int maxIoBytes, List<Integer> fds, IoUring ring,
             boolean submitContext) {
        this.prog = prog;
        this.w = w;
        this.qid = w.queueId();
        this.devId = devId;
        this.depth = depth;
        this.ring = ring;
        this.server = Thread.currentThread();
        this.allowedFds = fds.stream().mapToInt(Integer::intValue).toArray();
        ios = arena.allocate(IO_SIZE * depth, 8);
        descSlice = w.descriptors().asSlice(0, IoDesc.SIZE * depth);
        // enough aio for every tag to split its largest I/O into 4 KiB pieces, plus one fsync per file
        nAio = (int) Math.min(1 << 16, (long) depth * (maxIoBytes / 4096 + 4));
        aios = arena.allocate(AIO_SIZE * nAio, 8);
        VmContext c = new VmContext(qid);
        descAddr = c.addRegion(descSlice, false, "ublksrv_io_desc[] of queue " + qid);
        iosAddr = c.addRegion(ios, false, "ublk_bpf_io[] of queue " + qid);
        aiosAddr = c.addRegion(aios, false, "bpf_aio[] of queue " + qid);
        iosRid = (int) (iosAddr >>> 32);
        aiosRid = (int) (aiosAddr >>> 32);
        for (int t = 0; t < depth; t++) ios.set(ValueLayout.JAVA_LONG, t * IO_SIZE + IO_IOD, descAddr + t * IoDesc.SIZE);
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
        UblkProgram p = prog;
        full = present(p.queueIoCmd, p.queueIoCmdDaemon);
        submit = present(p.queueIoCmd);
        daemon = present(p.queueIoCmdDaemon);
        bounce = present(p.queueIoCmd != null ? p.queueIoCmd : p.queueIoCmdDaemon);
        serverRunner = new Runner(c, true);
        boolean needRing = submitContext && p.queueIoCmd != null && p.aioComplete != null;
        submitRing = needRing ? IoUring.create(new IoUring.Params(Math.max(64, Integer.highestOneBit(Math.min(4096, depth * 2)) * 2), 0, 0)) : null;
        pollUd = UblkQueue.SERVER_UD | AIO_UD | POLL_UD | (INSTANCES.incrementAndGet() & 0xffff_ffffL);
        reapSlot = needRing ? new int[nAio] : null;
        reapRes = needRing ? new int[nAio] : null;
        if (submitRing != null) {
            if (allowedFds.length > 0) {
                try {
                    submitRing.registerFiles(allowedFds);
                } catch (RuntimeException e) {
                    // plain descriptors then
                }
            }
            armPoll();
        }
        if (!submitContext) users.set(RETIRED); // nothing may enter from outside the serving thread
    }

    private static VmProgram[] present(VmProgram... ps) {
        return Arrays.stream(ps).filter(x -> x != null).toArray(VmProgram[]::new);
    }

    // ------------------------------------------------------------------ per-thread runners

    /** One thread's state for running this queue's programs. */
    final class Runner {
        final VmContext ctx;
        final boolean isServer;
        /** The struct_ops argument array, reused: no allocation per run. */
        final long[] args = new long[2];
        int running;
        /** Program runs under way on this thread (nested runs share the outermost one's cpu). */
        int runs;
        /** The VM cpu the outermost run leased. */
        int cpu;
        // releases that reached zero while a program ran: finished after the run
        final int[] pendingRelease = new int[depth];
        int pendingCount;
        // aio submitted by this submitter's run, issued when it ends
        int[] deferred = new int[16];
        int nDeferred;
        /** The aio whose completion this runner is finishing: freed to the pool only after the fix-ups. */
        int holdSlot = -1;
        /** The last clock read on this thread: the start of the next program run (one read per run, not two). */
        long clock;
        /** This thread's counters of the queue (no thread-local lookup per count). */
        final StatsRecorder stats = w.stats();

        Runner(boolean isServer) {
            this(new VmContext(qid), isServer);
            // same order as the serving thread's context: the same VM addresses
            if (ctx.addRegion(descSlice, false, "ublksrv_io_desc[] of queue " + qid) != descAddr
                    || ctx.addRegion(ios, false, "ublk_bpf_io[] of queue " + qid) != iosAddr
                    || ctx.addRegion(aios, false, "bpf_aio[] of queue " + qid) != aiosAddr)
                throw new IllegalStateException("VM regions of queue " + qid + " differ between threads");
        }

        Runner(VmContext ctx, boolean isServer) {
            this.ctx = ctx;
            this.isServer = isServer;
            ctx.setHost(this);
        }

        // kfuncs (UblkKfuncs): the program's view of the queue, from the thread it runs on
        long getIod(long io) throws VmFault { return descAddr + tagOf(io, "ublk_bpf_get_iod") * IoDesc.SIZE; }
        long tag(long io) throws VmFault { return tagOf(io, "ublk_bpf_get_io_tag"); }
        long queueIdOf(long io) throws VmFault { tagOf(io, "ublk_bpf_get_queue_id"); return qid; }
        long devIdOf(long io) throws VmFault { tagOf(io, "ublk_bpf_get_dev_id"); return devId; }
        void completeIoKfunc(long io, int r) throws VmFault { completeIo(this, ownedTag(io, "ublk_bpf_complete_io"), r); }
        long allocAio(int op, int flags) {
            long a = BpfQueue.this.allocAio(op, flags);
            if (a != 0) own((int) ((a - aiosAddr) / AIO_SIZE));
            return a;
        }

        // aio this thread allocated in its current run and has not submitted or released: a leak at its end
        int[] owned = new int[8];
        int nOwned;

        private void own(int s) {
            if (nOwned == owned.length) owned = java.util.Arrays.copyOf(owned, nOwned * 2);
            owned[nOwned++] = s;
        }

        void disown(int s) {
            for (int i = 0; i < nOwned; i++) {
                if (owned[i] == s) {
                    owned[i] = owned[--nOwned];
                    return;
                }
            }
        }
        long attachAio(long io, int off, int bytes, long aio) throws VmFault { return BpfQueue.this.attachAio(this, io, off, bytes, aio); }
        void detachAio(long aio) throws VmFault { BpfQueue.this.detachAio(this, aio); }
        long ioOfAio(long aio) throws VmFault { return BpfQueue.this.ioOfAio(aio); }
        void releaseAio(long aio) throws VmFault { BpfQueue.this.releaseAio(this, aio); }
        long submitAio(long aio, int fd, long pos, int bytes, int ioFlags) throws VmFault {
            return BpfQueue.this.submitAio(this, aio, fd, pos, bytes, ioFlags);
        }
    }

    private Runner runner() { return Thread.currentThread() == server ? serverRunner : runners.get(); }

    // ------------------------------------------------------------------ running programs

    private long run(Runner r, VmProgram p, long a0, long a1) {
        r.running++;
        if (r.runs++ == 0) r.ctx.setCpu(r.cpu = prog.cpus.acquire(qid));
        long t0 = r.clock;
        try {
            r.args[0] = a0;
            r.args[1] = a1;
            return prog.engine.run(p, r.ctx, r.ctx.setArgs(r.args), 0, 0, 0, 0);
        } catch (VmFault f) {
            LOG.log(Level.WARNING, "device " + devId + " queue " + qid + " (" + Thread.currentThread().getName() + "): " + f.getMessage());
            return FAULTED;
        } finally {
            long t1 = System.nanoTime();
            r.stats.progRun(t1 - t0);
            r.clock = t1;
            if (--r.runs == 0) prog.cpus.release(r.cpu);
            if (r.running == 1 && r.nOwned > 0) releaseLeakedAios(r, p);
            if (--r.running == 0) drainReleases(r);
        }
    }

    /**
     * A program that returns still holding an aio it neither submitted nor released has leaked it
     * (the kernel's verifier refuses such a program: bpf_aio_alloc's reference must be released or
     * handed on). Left alone, the I/O it is attached to would wait forever; release it, which fails
     * that I/O with -EIO.
     */
    private void releaseLeakedAios(Runner r, VmProgram p) {
        int n = r.nOwned;
        r.nOwned = 0;
        for (int i = 0; i < n; i++) {
            int s = r.owned[i];
            if (aState[s] != A_ALLOC) continue;
            LOG.warning("device " + devId + " queue " + qid + ": " + p.name() + " returned holding bpf_aio #" + s
                    + " (neither submitted nor released)" + (aTag[s] >= 0 ? "; failing tag " + aTag[s] + " with EIO" : "; released"));
            if (aTag[s] >= 0) completeIo(r, aTag[s], -Errno.EIO);
            free(r, s);
        }
    }

    private long ioAddr(int tag) { return iosAddr + tag * IO_SIZE; }

    private void mirror(int tag) {
        long b = tag * IO_SIZE;
        ios.set(ValueLayout.JAVA_LONG, b + IO_FLAGS, (prepped[tag] ? 1L << IO_PREP : 0) | (completed[tag] ? 1L << IO_COMPLETED : 0));
        ios.set(ValueLayout.JAVA_INT, b + IO_REF, ref[tag]);
        ios.set(ValueLayout.JAVA_INT, b + IO_RES, res[tag]);
    }

    @Override public boolean submitContext() { return submit.length > 0 && (users.get() & RETIRED) == 0; }

    @Override
    public boolean tryEnter() {
        while (true) {
            int v = users.get();
            if ((v & RETIRED) != 0) return false;
            if (users.compareAndSet(v, v + 1)) return true;
        }
    }

    @Override public void exit() { users.decrementAndGet(); }

    @Override
    public void retire() {
        int v;
        do { v = users.get(); } while ((v & RETIRED) == 0 && !users.compareAndSet(v, v | RETIRED));
    }

    @Override
    public int dispatch(int tag, int mode, long now) {
        Runner r = runner();
        r.clock = now != 0 ? now : System.nanoTime();
        if (mode == BOUNCE && prepped[tag]) {
            // the program still holds pieces of this I/O: a bounce cannot restart it
            completeIo(r, tag, -Errno.EIO);
            return DONE;
        }
        // ublk_bpf_prep_io
        prepped[tag] = true;
        completed[tag] = false;
        forwarded[tag] = false;
        res[tag] = 0;
        ref[tag] = 2;
        attached[tag] = 0;
        mirror(tag);
        held.incrementAndGet();
        w.programHold(tag);

        int total = w.totalBytes(tag);
        int done = 0, err = 0;
        boolean handled = false, redirect = false;
        VmProgram[] cbs = switch (mode) {
            case SUBMIT -> submit;
            case DAEMON -> daemon;
            case BOUNCE -> bounce;
            default -> full;
        };
        outer:
        for (VmProgram cb : cbs) {
            redirect = false;
            for (int round = 0; ; round++) {
                if (round == MAX_ROUNDS) { err = -Errno.E2BIG; break outer; }
                long ret = run(r, cb, ioAddr(tag), done);
                if (ret == FAULTED) { err = -Errno.EFAULT; break outer; }
                int disp = (int) (ret >>> DISPOSITION_SHIFT);
                long bytes = ret & 0xffff_ffffL;
                if (disp == QUEUED) { handled = true; break outer; }
                if (disp == REDIRECT) { redirect = true; break; }
                if (disp == CONTINUE) {
                    if (bytes == 0 || (bytes & 511) != 0) { err = -EREMOTEIO; break outer; }
                    if (bytes > total - done) { err = -Errno.ENOSPC; break outer; }
                    done += (int) bytes;
                    r.stats.splitPart();
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
            completeIo(r, tag, err);
        } else if (handled) {
            r.stats.bpfHandled();
        } else if (done == 0 && mode == BOUNCE) {
            completeIo(r, tag, -Errno.EIO); // bounced back and still not handled: the RFC fails it
        } else if (done == 0) {
            // not handled: clear PREP, drop both references, then the server gets the I/O
            forwarded[tag] = true;
            prepped[tag] = false;
            decRef(r, tag);
            decRef(r, tag);
            // from the submitter, the daemon context runs queue_io_cmd_daemon next (RFC: ublk task work)
            return mode == SUBMIT && daemon.length > 0 ? TO_DAEMON : 0;
        }
        decRef(r, tag); // the submission reference
        checkStuck(r, tag);
        return err == 0 && !handled && done > 0 ? done : DONE; // the rest goes to the Java target
    }

    @Override
    public void flushSubmitted() {
        Runner r = runner();
        if (r.nDeferred == 0) return;
        synchronized (submitLock) {
            for (int i = 0; i < r.nDeferred; i++) issue(r.deferred[i], submitRing);
            submitRing.submit();
        }
        r.nDeferred = 0;
    }

    /** The request can never complete: finish it rather than hang. */
    private void checkStuck(Runner r, int tag) {
        if (r.running == 0 && ref[tag] > 0 && !completed[tag] && attached[tag] == 0 && !forwarded[tag] && prepped[tag]) {
            LOG.warning("device " + devId + " queue " + qid + " tag " + tag + ": " + prog.name()
                    + " left the I/O queued with no completion and no aio; failing it with EIO");
            completeIo(r, tag, -Errno.EIO);
        }
    }

    private void completeIo(Runner r, int tag, int rv) {
        if (!completed[tag]) {
            completed[tag] = true;
            res[tag] = rv;
            mirror(tag);
            decRef(r, tag);
        } else if (rv < 0 && res[tag] >= 0) {
            res[tag] = rv; // first error wins
            mirror(tag);
        }
    }

    private void decRef(Runner r, int tag) {
        if (--ref[tag] > 0) {
            mirror(tag);
            return;
        }
        if (ref[tag] < 0) throw new IllegalStateException("tag " + tag + " reference count underflow");
        mirror(tag);
        if (r.running > 0) r.pendingRelease[r.pendingCount++] = tag;
        else finish(r, tag);
    }

    private void drainReleases(Runner r) {
        while (r.pendingCount > 0) finish(r, r.pendingRelease[--r.pendingCount]);
    }

    /** Reference zero: release_io_cmd, then the request's program hold ends. */
    private void finish(Runner r, int tag) {
        if (prog.releaseIoCmd != null) run(r, prog.releaseIoCmd, ioAddr(tag), 0);
        boolean c = completed[tag];
        int rv = res[tag];
        if (!c && !forwarded[tag]) {
            c = true;
            rv = -Errno.EIO; // the program dropped the I/O without completing it
            LOG.warning("device " + devId + " queue " + qid + " tag " + tag + ": released without completion; EIO");
        }
        prepped[tag] = false;
        mirror(tag);
        held.decrementAndGet();
        w.programRelease(tag, c, rv, r.clock);
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

    private int slotOf(long aio, String fn) throws VmFault {
        long off = aio - aiosAddr;
        if ((aio >>> 32) != aiosRid || off < 0 || off % AIO_SIZE != 0 || off / AIO_SIZE >= nAio)
            throw VmFault.helper(fn + ": 0x" + Long.toHexString(aio) + " is not a struct bpf_aio");
        int s = (int) (off / AIO_SIZE);
        if (aState[s] == A_FREE) throw VmFault.helper(fn + ": bpf_aio 0x" + Long.toHexString(aio) + " was released");
        return s;
    }

    private long aioAddr(int s) { return aiosAddr + s * AIO_SIZE; }

    private long allocAio(int op, int flags) {
        if (op < 0 || op >= AIO_OP_LAST || (flags & AIO_OP_MASK) != 0) return 0; // NULL
        int s;
        synchronized (freeAio) {
            if (freeTop == 0) return 0;
            s = freeAio[--freeTop];
        }
        aState[s] = A_ALLOC;
        aTag[s] = -1;
        aOp[s] = op;
        aSize[s] = 0;
        aios.asSlice(s * AIO_SIZE, AIO_SIZE).fill((byte) 0);
        aios.set(ValueLayout.JAVA_INT, s * AIO_SIZE + AIO_OPF, op | flags);
        return aioAddr(s);
    }

    private long attachAio(Runner r, long io, int off, int bytes, long aio) throws VmFault {
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

    private void detachAio(Runner r, long aio) throws VmFault {
        int s = slotOf(aio, "ublk_bpf_dettach_and_complete_aio");
        // the I/O's buffer is still in use by the transfer: completing the I/O now would hand it back early
        if (aState[s] == A_SUBMITTED) throw VmFault.helper("ublk_bpf_dettach_and_complete_aio: the aio is still in flight");
        detach(r, s);
    }

    private void detach(Runner r, int s) {
        int tag = aTag[s];
        if (tag < 0) return;
        aTag[s] = -1;
        aios.set(ValueLayout.JAVA_LONG, s * AIO_SIZE + AIO_PRIVATE, 0L);
        attached[tag]--;
        decRef(r, tag);
    }

    private long ioOfAio(long aio) throws VmFault {
        int s = slotOf(aio, "ublk_bpf_acquire_io_from_aio");
        return aTag[s] < 0 ? 0 : ioAddr(aTag[s]);
    }

    private void releaseAio(Runner r, long aio) throws VmFault {
        int s = slotOf(aio, "bpf_aio_release");
        if (aState[s] == A_SUBMITTED) throw VmFault.helper("bpf_aio_release: the aio is still in flight");
        free(r, s);
    }

    private void free(Runner r, int s) {
        if (aTag[s] >= 0) {
            LOG.warning("device " + devId + " queue " + qid + ": aio released while attached to tag " + aTag[s] + "; detaching");
            detach(r, s);
        }
        r.disown(s);
        aState[s] = A_FREE;
        // another thread may take a freed slot at once: the completion that frees its own aio checks it first
        if (s != r.holdSlot) push(s);
    }

    private void push(int s) {
        synchronized (freeAio) {
            freeAio[freeTop++] = s;
        }
    }

    private long submitAio(Runner r, long aio, int fd, long pos, int bytes, int ioFlags) throws VmFault {
        int s = slotOf(aio, "bpf_aio_submit");
        if (aState[s] == A_SUBMITTED) return -Errno.EBUSY;
        if (aTag[s] < 0) return -Errno.EINVAL; // aio->ops not set: never attached
        int op = aOp[s];
        if ((op == AIO_READ || op == AIO_WRITE) && Integer.compareUnsigned(bytes, aSize[s]) > 0) return -Errno.EINVAL;
        if (!allowed(fd)) return -Errno.EBADF; // only the device's backing files
        // FSYNC has no position (a flush's sector is (u64)-1, which programs pass on as pos).
        if (pos < 0 && op != AIO_FSYNC) return -Errno.EINVAL;
        aState[s] = A_SUBMITTED;
        r.disown(s);
        aFd[s] = fd;
        aPos[s] = pos;
        aLen[s] = bytes;
        aDone[s] = 0;
        aFlags[s] = ioFlags;
        aios.set(ValueLayout.JAVA_LONG, s * AIO_SIZE + AIO_KI_POS, pos);
        aios.set(ValueLayout.JAVA_INT, s * AIO_SIZE + AIO_KI_FLAGS, ioFlags);
        aioInFlight.incrementAndGet();
        r.stats.aioSubmitted();
        if (r.isServer || submitRing == null) {
            issue(s, ring);
        } else {
            // a submitter: issued when its dispatch is done with the request (flushSubmitted)
            if (r.nDeferred == r.deferred.length) r.deferred = Arrays.copyOf(r.deferred, r.nDeferred * 2);
            r.deferred[r.nDeferred++] = s;
        }
        return 0;
    }

    private boolean allowed(int fd) { return fileIndex(fd) >= 0; }

    private int fileIndex(int fd) {
        for (int i = 0; i < allowedFds.length; i++) if (allowedFds[i] == fd) return i;
        return -1;
    }

    private long bufAddr(int s) {
        MemorySegment b = w.queue.ioBuffer(aTag[s]);
        return b == null ? 0 : b.address() + aOff[s];
    }

    private void issue(int s, IoUring on) {
        long ud = UblkQueue.SERVER_UD | AIO_UD | s;
        int left = aLen[s] - aDone[s];
        dev.ublkctl.uring.Sqe sqe = switch (aOp[s]) {
            case AIO_READ -> on.sqe().prepRead(aFd[s], bufAddr(s) + aDone[s], left, aPos[s] + aDone[s]);
            case AIO_WRITE -> on.sqe().prepWrite(aFd[s], bufAddr(s) + aDone[s], left, aPos[s] + aDone[s]);
            case AIO_FSYNC -> on.sqe().prepFsync(aFd[s], 0);
            default -> on.sqe().prepFallocate(aFd[s], aFlags[s], aPos[s], aLen[s]);
        };
        sqe.userData(ud);
        // the device's files, registered on the ring in this order (by the file target, or for the submit ring here)
        if (allowedFds.length > 0 && on.registeredFiles() == allowedFds.length) sqe.fixedFile(fileIndex(aFd[s]));
    }

    /** Serving thread: wake up (a CQE on the queue ring) when the submit ring has completions. */
    private void armPoll() {
        ring.sqe().prepPollAdd(submitRing.fd(), POLLIN).userData(pollUd);
    }

    /** Serving thread: the submit ring has completions; runs them in one batch and re-arms the poll. */
    private void reapSubmitRing() {
        int n;
        synchronized (submitLock) { // orders the submitters' writes of the aio before ours
            reapCount = 0;
            submitRing.reap(reaper);
            n = reapCount;
        }
        for (int i = 0; i < n; i++) aioDone(reapSlot[i], reapRes[i]);
        if (!aborted) armPoll();
    }

    private void reaped(long ud, int rv, int flags) {
        reapSlot[reapCount] = (int) (ud & 0xffff_ffffL);
        reapRes[reapCount++] = rv;
    }

    @Override
    public void onAioCompletion(long userData, int r) {
        if ((userData & POLL_UD) != 0) {
            if (userData == pollUd) reapSubmitRing(); // else the poll of a program this queue ran before
            return;
        }
        aioDone((int) (userData & 0xffff_ffffL), r);
    }

    private void aioDone(int s, int r) {
        if (s < 0 || s >= nAio || aState[s] != A_SUBMITTED) {
            LOG.warning("stray aio completion of slot " + s);
            return;
        }
        Runner rn = serverRunner;
        int op = aOp[s];
        if (r > 0 && (op == AIO_READ || op == AIO_WRITE) && aDone[s] + r < aLen[s]) {
            aDone[s] += r;
            issue(s, ring); // short transfer: the rest, from here
            return;
        }
        if (r >= 0 && (op == AIO_READ || op == AIO_WRITE)) {
            if (r == 0 && aDone[s] < aLen[s]) {
                if (op == AIO_READ) {
                    long a = aTag[s] >= 0 ? bufAddr(s) : 0;
                    if (a != 0) MemorySegment.ofAddress(a + aDone[s]).reinterpret(aLen[s] - aDone[s]).fill((byte) 0);
                } else {
                    r = -Errno.EIO;
                }
            }
            if (r >= 0) r = aLen[s];
        }
        aioInFlight.decrementAndGet();
        aState[s] = A_DONE;
        rn.stats.aioCompleted();
        rn.clock = System.nanoTime();
        int tag = aTag[s];
        rn.holdSlot = s;
        run(rn, prog.aioComplete, aioAddr(s), r);
        rn.running++; // hold releases until the fix-ups below are done
        if (aTag[s] >= 0) {
            LOG.warning("device " + devId + " queue " + qid + ": " + prog.aioOpsName().orElse("aio callback")
                    + " did not detach its aio; detaching");
            detach(rn, s);
        }
        if (aState[s] != A_FREE) free(rn, s);
        rn.holdSlot = -1;
        push(s);
        if (--rn.running == 0) drainReleases(rn);
        if (tag >= 0 && prepped[tag]) checkStuck(rn, tag);
    }

    @Override
    public int inFlight() { return aioInFlight.get() + held.get() + (users.get() & ~RETIRED); }

    @Override
    public void abort() {
        retire();
        aborted = true;
        serverRunner.ctx.setHost(null);
        // the queue loop ends (or switches programs) only when nothing is in flight, so nothing can touch this memory any more
        if (inFlight() == 0) {
            if (submitRing != null) {
                // the poll armed on the queue ring would keep the closed ring alive until the queue closes
                try {
                    ring.sqe().prepPollRemove(pollUd).userData(pollUd);
                } catch (RuntimeException e) {
                    // the queue ring is closing too
                }
                submitRing.close();
            }
            arena.close();
        }
    }
}
