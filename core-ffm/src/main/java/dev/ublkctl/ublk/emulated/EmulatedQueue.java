package dev.ublkctl.ublk.emulated;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.Libc;
import dev.ublkctl.ublk.IoCallback;
import dev.ublkctl.ublk.IoDesc;
import dev.ublkctl.ublk.IoOp;
import dev.ublkctl.ublk.SpinPolicy;
import dev.ublkctl.ublk.SubmitHook;
import dev.ublkctl.ublk.UblkQueue;
import dev.ublkctl.uring.IoUring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One queue of the emulated driver: the kernel side (tags, descriptors, the request buffers,
 * abort) and the server side ({@link UblkQueue}) in one object.
 *
 * <p>Submitters take a free tag (a semaphore of {@code depth} permits is the back-pressure, a
 * bitmap picks the tag), fill the tag's descriptor and buffer, and push the tag on a lock-free
 * stack. The serving thread takes the whole stack at once and delivers the tags in submission
 * order. When it sleeps it sits in {@code io_uring_enter} on the queue's ring, with a read of an
 * eventfd armed on it, so a submitter wakes it with one eventfd write and the same wait also sees
 * the completions of the server's own I/O.
 *
 * <p>Hand-offs cost a wake-up only when the other side sleeps: the serving thread spins briefly
 * before it sleeps and raises a {@code sleeping} flag first (as io_uring's SQ_NEED_WAKEUP); the
 * first submitter that sees the flag clears it and writes the eventfd, the others skip it.
 * Completions go back in batches: a commit inside {@link #processEvents} is queued and the
 * callbacks run every {@link #COMPLETION_BATCH} commits and at the end of the pass, after their
 * tags and permits are given back in one update; a commit outside a pass completes at once.
 *
 * <p>With a {@link SubmitHook} installed (the engine's program dispatch), the submitter runs it once the
 * descriptor is set, as {@code ublk_queue_rq} runs {@code queue_io_cmd}: a request the hook takes never
 * reaches the stack and is committed by whichever thread finishes it (the submitter itself for an I/O the
 * program completes at once: no hand-off, no wake-up).
 *
 * <p>Data: a native buffer (any arena but a confined one) is used in place — the descriptor's address
 * is the submitter's buffer and the server's I/O reads or writes it directly (the zero-copy model). A
 * heap segment has no address the server's io_uring could use, so for it the queue copies WRITE data
 * into its per-tag buffer at submission and READ data back at commit (ublk's copy mode).
 *
 * <p>Only one thread touches a tag's state at a time: the submitter until it pushes the tag (or, when
 * the hook took it, whoever holds it), then the serving thread; the push and the stack's take order them.
 */
final class EmulatedQueue implements UblkQueue {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle SLEEPING;
    static {
        try {
            SLEEPING = MethodHandles.lookup().findVarHandle(EmulatedQueue.class, "sleeping", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    /** user_data of the armed eventfd read (no {@link #SERVER_UD} bit). */
    private static final long WAKE_UD = 0x7eed_0000_0000_0001L;
    private static final MemorySegment ONE = Arena.global().allocateFrom(ValueLayout.JAVA_LONG, 1L);

    /**
     * Longest spin before the serving thread sleeps, in ns (-Dublkctl.emulated.spinMaxNanos; 0 turns spinning
     * off). How long it spins within that follows how long its waits take ({@link SpinPolicy}): a busy queue
     * spins through the short gaps between a submitter's bursts, an idle one sleeps after a few µs.
     */
    static final long SPIN_MAX_NS = Long.getLong("ublkctl.emulated.spinMaxNanos", 20_000);
    /**
     * Completions handed over at once inside a pass (-Dublkctl.emulated.completionBatch): the submitter
     * starts on the first ones while this thread serves the rest, and is woken at most once per batch.
     */
    static final int COMPLETION_BATCH = Math.max(1, Integer.getInteger("ublkctl.emulated.completionBatch", 32));

    private static final byte FREE = 0, PENDING = 1, INFLIGHT = 2, ABORTED = 3;

    private final int qid, depth, maxIo;
    private final SpinPolicy spin;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment descs, buffers, wakeBuf;
    private final MemorySegment[] tagBufs;
    private final IoUring ring;
    private final int eventFd;

    // Back-pressure and tag allocation (submitters take, the serving thread gives back).
    private final Semaphore permits;
    private final long[] tagBits;
    private final AtomicInteger submitters = new AtomicInteger();

    // Submitted, not yet fetched: a stack of tags linked through next[].
    private final AtomicInteger pendingHead = new AtomicInteger(-1);
    private final int[] next;
    private final int[] order;

    // Per-tag request state, preallocated (written by the submitter before the push publishes it).
    private final byte[] state;
    private final IoCallback[] cbs;
    private final long[] cookies;
    private final MemorySegment[] userBufs;
    /** The buffer the server sees per tag: the submitter's (zero copy) or the tag's own (copy mode). */
    private final MemorySegment[] ioBufs;
    private final boolean[] copied;
    private final int[] lens;
    private final byte[] ops;

    // Completions of the current pass of processEvents, handed to their callbacks (and their tags back
    // to the submitters) at its end: a submitter gets a burst per pass and is woken once for it, and
    // the tag bitmap and permits take one atomic update per pass, not one per request.
    private final IoCallback[] doneCbs;
    private final long[] doneCookies;
    private final int[] doneRes;
    private int doneCount;
    private final long[] freedBits;
    private int freed;
    private boolean inPass;

    @SuppressWarnings("unused") // via SLEEPING
    private volatile int sleeping;
    private volatile boolean aborted;
    private volatile Thread servingThread;
    private volatile boolean sealed;
    private boolean wakeArmed;
    /** CQE router, allocated once (the handler it forwards to is set per call). */
    private Handler reapTo;
    private final IoUring.CompletionHandler reaper = (ud, res, fl) -> {
        if (ud == WAKE_UD) wakeArmed = false;
        else reapTo.onServerCompletion(ud, res, fl);
    };
    private volatile boolean closed;
    private volatile SubmitHook hook;

    EmulatedQueue(int qid, int depth, int maxIo) {
        this(qid, depth, maxIo, SPIN_MAX_NS);
    }

    EmulatedQueue(int qid, int depth, int maxIo, long spinMaxNs) {
        this.spin = new SpinPolicy(Math.min(4_000, spinMaxNs), spinMaxNs);
        this.qid = qid;
        this.depth = depth;
        this.maxIo = maxIo;
        long page = Libc.pageSize();
        long descBytes = (depth * IoDesc.SIZE + page - 1) / page * page;
        // each resource is released again if a later one cannot be had: a failed open leaks nothing
        MemorySegment d = null, bufs = null;
        IoUring r = null;
        int efd;
        try {
            d = Libc.mmap(MemorySegment.NULL, descBytes, Libc.PROT_READ | Libc.PROT_WRITE,
                    Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
            // Request buffers: one mapping, touched only as far as requests use it.
            bufs = Libc.mmap(MemorySegment.NULL, (long) depth * maxIo, Libc.PROT_READ | Libc.PROT_WRITE,
                    Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
            int entries = Integer.highestOneBit(Math.max(64, Math.min(4096, depth * 4)) * 2 - 1);
            r = IoUring.create(new IoUring.Params(entries, 0, entries * 4));
            efd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        } catch (RuntimeException e) {
            if (r != null) r.close();
            if (bufs != null) Libc.munmap(bufs);
            if (d != null) Libc.munmap(d);
            arena.close();
            throw e;
        }
        descs = d;
        buffers = bufs;
        ring = r;
        eventFd = efd;
        tagBufs = new MemorySegment[depth];
        for (int t = 0; t < depth; t++) tagBufs[t] = buffers.asSlice((long) t * maxIo, maxIo);
        wakeBuf = IoUring.DISCARD_8;   // may be written after close: never freed
        permits = new Semaphore(depth);
        tagBits = new long[(depth + 63) / 64];
        next = new int[depth];
        order = new int[depth];
        state = new byte[depth];
        cbs = new IoCallback[depth];
        cookies = new long[depth];
        userBufs = new MemorySegment[depth];
        ioBufs = new MemorySegment[depth];
        copied = new boolean[depth];
        lens = new int[depth];
        ops = new byte[depth];
        doneCbs = new IoCallback[depth];
        doneCookies = new long[depth];
        doneRes = new int[depth];
        freedBits = new long[tagBits.length];
    }

    // ---------------------------------------------------------------- submitter side

    /** Accepts one request (already validated, at most maxIo bytes); see BlockDevice.submit. */
    int submit(IoOp op, long offset, int len, MemorySegment buf, IoCallback cb, long cookie, boolean block)
            throws InterruptedException {
        if (aborted) return -Errno.ENODEV;
        if (!permits.tryAcquire()) {
            if (!block) return dev.ublkctl.ublk.BlockDevice.FULL;
            SubmitPlug plug = SubmitPlug.active();
            if (plug != null) plug.flush(); // the tags we wait for may be held in our own plug
            permits.acquire();
        }
        submitters.incrementAndGet();
        boolean held = false;
        try {
            if (aborted) {
                permits.release();
                return -Errno.ENODEV;
            }
            int tag = takeTag();
            cbs[tag] = cb;
            cookies[tag] = cookie;
            lens[tag] = len;
            ops[tag] = (byte) op.code;
            MemorySegment io = null;
            boolean copy = false;
            if (op.hasData()) {
                copy = !buf.isNative();
                io = copy ? tagBufs[tag] : buf;
                if (copy && op == IoOp.WRITE) MemorySegment.copy(buf, 0, io, 0, len);
            }
            ioBufs[tag] = io;
            copied[tag] = copy;
            userBufs[tag] = copy && op == IoOp.READ ? buf : null;
            // A flush carries no position: the block layer leaves its sector at (sector_t)-1, and so
            // does the kernel's ublk driver in the descriptor; model that, so programs see what they will see.
            IoDesc.set(descs, tag, op.code, len >>> IoDesc.SECTOR_SHIFT, op == IoOp.FLUSH ? -1L : offset >>> IoDesc.SECTOR_SHIFT,
                    io != null ? io.address() : 0);
            SubmitHook hk = hook;
            if (hk != null) {
                state[tag] = INFLIGHT;
                if (hk.onSubmit(tag)) return 0; // taken: committed by whoever finishes it
            }
            state[tag] = PENDING;
            SubmitPlug plug = SubmitPlug.active();
            if (plug != null) {
                // held until the batch ends; it still counts as a submitter in progress, so abort waits for it
                plug.hold(this, tag, next);
                held = true;
                return 0;
            }
            int h;
            do {
                h = pendingHead.get();
                next[tag] = h;
            } while (!pendingHead.compareAndSet(h, tag));
        } finally {
            if (!held) submitters.decrementAndGet();
        }
        wakeIfSleeping();
        return 0;
    }

    /**
     * A plug's held requests, {@code head} (newest) down to {@code tail} (oldest), pushed on the stack in
     * one step; each of them counted as a submitter until now.
     */
    void publish(int head, int tail) {
        int count = 1;
        for (int t = head; t != tail; t = next[t]) count++;
        int h;
        do {
            h = pendingHead.get();
            next[tail] = h;
        } while (!pendingHead.compareAndSet(h, head));
        submitters.addAndGet(-count);
        wakeIfSleeping();
    }

    /**
     * Wakes the serving thread only if it is (about to be) asleep, and only once per sleep: the first
     * submitter to see the flag clears it and pays for the eventfd write; the others see 0 and go on (as
     * SQ_NEED_WAKEUP). The push before this read and the read are both volatile, and so are the sleeper's
     * flag store and its re-check of the stack: one of the two sees the other.
     */
    private void wakeIfSleeping() {
        if ((int) SLEEPING.getVolatile(this) != 0 && SLEEPING.compareAndSet(this, 1, 0)) signal();
    }

    private int takeTag() {
        while (true) {
            for (int w = 0; w < tagBits.length; w++) {
                long v = (long) LONGS.getVolatile(tagBits, w);
                int limit = Math.min(64, depth - w * 64);
                long free = ~v & (limit == 64 ? -1L : (1L << limit) - 1);
                while (free != 0) {
                    long bit = Long.lowestOneBit(free);
                    if (LONGS.compareAndSet(tagBits, w, v, v | bit)) return w * 64 + Long.numberOfTrailingZeros(bit);
                    v = (long) LONGS.getVolatile(tagBits, w);
                    free = ~v & (limit == 64 ? -1L : (1L << limit) - 1);
                }
            }
            Thread.onSpinWait(); // a permit is held, so a tag is being given back right now
        }
    }

    private void giveTag(int tag) {
        LONGS.getAndBitwiseAnd(tagBits, tag >>> 6, ~(1L << (tag & 63)));
        permits.release();
    }

    /** STOP_DEV for this queue: no new requests; the serving thread fails what is queued, and what is in flight once its I/O ends. */
    void abort() {
        aborted = true;
        // each is a few stores (or, with a submit hook, one program run) away from done; one that never
        // leaves is this very thread stopping the device from a completion callback inside submit
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (submitters.get() != 0) {
            if (System.nanoTime() - deadline > 0)
                throw new IllegalStateException("queue " + qid + ": a submitter did not leave submit() within 10 s"
                        + " (is the device being stopped from an I/O callback? callbacks must not block)");
            Thread.onSpinWait();
        }
        sealed = true;
        permits.release(depth + 1024); // wake submitters blocked for a tag; they see aborted and leave
        wake();
    }

    boolean isAborted() { return aborted; }

    // ---------------------------------------------------------------- serving side

    @Override public int queueId() { return qid; }
    @Override public int depth() { return depth; }
    @Override public MemorySegment descriptors() { return descs; }
    @Override public MemorySegment ioBuffer(int tag) { return ioBufs[tag]; }

    @Override
    public boolean setSubmitHook(SubmitHook h) {
        hook = h;
        return true;
    }
    @Override public IoUring ring() { return ring; }

    @Override
    public boolean processEvents(Handler h, boolean wait) {
        if (servingThread == null) servingThread = Thread.currentThread();
        reapTo = h;
        while (true) {
            int n;
            inPass = true;
            try {
                n = sealed ? failPending() : deliver(h);
                ring.submit();
                n += ring.reap(reaper);
            } finally {
                inPass = false;
                flushCompletions();
            }
            if (sealed) {
                failPending();
                if (!h.serverBusy()) {
                    failAll(); // nothing is in flight any more: what the server still holds can go
                    return false;
                }
            }
            if (n > 0 || !wait) return true;
            // A spin catches the next submission without the eventfd/io_uring_enter round trip (and spares the
            // submitter the eventfd write); how long follows how long waits have lately taken.
            long t0 = System.nanoTime(), limit = spin.spinNanos();
            if (limit > 0 && SpinPolicy.tryStartSpin()) {
                try {
                    for (int i = 1; pendingHead.get() == -1 && ring.cqReady() == 0 && !sealed; i++) {
                        SpinPolicy.pause();
                        if ((i & 31) == 0 && System.nanoTime() - t0 >= limit) break;
                    }
                } finally {
                    SpinPolicy.endSpin();
                }
            }
            if (pendingHead.get() == -1 && ring.cqReady() == 0 && !sealed) {
                // Arm the eventfd read only now, so that its submission rides on the wait's io_uring_enter.
                if (!wakeArmed) armWake();
                SLEEPING.setVolatile(this, 1);
                if (pendingHead.get() == -1 && !sealed) ring.submitAndWait(1);
                SLEEPING.setVolatile(this, 0);
            }
            spin.waited(System.nanoTime() - t0);
        }
    }

    @Override
    public boolean prepareWait() {
        if (servingThread == null) servingThread = Thread.currentThread();
        if (!wakeArmed) armWake();
        SLEEPING.setVolatile(this, 1);
        ring.submit();
        // the flag store above and a submitter's push are both volatile: one of us sees the other
        if (pendingHead.get() != -1 || ring.cqReady() > 0 || sealed) {
            SLEEPING.setVolatile(this, 0);
            return false;
        }
        return true;
    }

    @Override
    public void endWait() { SLEEPING.setVolatile(this, 0); }

    private void armWake() {
        ring.sqe().prepRead(eventFd, wakeBuf, 8, 0).userData(WAKE_UD);
        wakeArmed = true;
    }

    /** Delivers fetched tags in submission order; returns how many. */
    private int deliver(Handler h) {
        int head = pendingHead.getAndSet(-1);
        if (head == -1) return 0;
        int n = 0;
        for (int t = head; t != -1; t = next[t]) order[n++] = t;
        for (int i = n - 1; i >= 0; i--) {
            int tag = order[i];
            state[tag] = INFLIGHT;
            h.onRequest(tag);
        }
        return n;
    }

    /**
     * After abort: fails the requests still queued for the serving thread with -ENODEV. Requests in
     * flight complete when their I/O ends (their buffer may be the submitter's, in use until then).
     */
    private int failPending() {
        int n = 0;
        int head = pendingHead.getAndSet(-1);
        for (int t = head; t != -1; ) {
            int nx = next[t];
            abort(t);
            n++;
            t = nx;
        }
        return n;
    }

    /** Fails the request at {@code t} with -ENODEV; the tag stays ABORTED (a late commit is ignored). */
    private void abort(int t) {
        state[t] = ABORTED;
        IoCallback cb = cbs[t];
        cbs[t] = null;
        userBufs[t] = null;
        ioBufs[t] = null;
        cb.done(cookies[t], -Errno.ENODEV);
    }

    /** When the server has nothing in flight after abort: fails whatever it still holds with -ENODEV. */
    private int failAll() {
        int n = failPending();
        for (int t = 0; t < depth; t++) {
            if (state[t] == INFLIGHT) {
                abort(t);
                n++;
            }
        }
        return n;
    }

    @Override
    public void commit(int tag, int result) {
        if (tag < 0 || tag >= depth) throw new IllegalArgumentException("tag " + tag + " out of range 0.." + (depth - 1));
        byte s = state[tag];
        if (s == ABORTED) return;
        if (s != INFLIGHT) throw new IllegalStateException("commit of tag " + tag + " on queue " + qid + " that holds no request");
        // as the kernel's __ublk_complete_rq: never more bytes than the request has, whatever the server says
        if (result > lens[tag] && (ops[tag] == IoOp.READ.code || ops[tag] == IoOp.WRITE.code)) result = lens[tag];
        if (result >= 0 && copied[tag] && ops[tag] == IoOp.READ.code) {
            int n = Math.min(result, lens[tag]);
            MemorySegment.copy(tagBufs[tag], 0, userBufs[tag], 0, n);
        }
        IoCallback cb = cbs[tag];
        long cookie = cookies[tag];
        cbs[tag] = null;
        userBufs[tag] = null;
        ioBufs[tag] = null;
        state[tag] = FREE;
        // batched only on the serving thread inside a pass; a submitter (hook) commits at once
        if (Thread.currentThread() == servingThread && inPass && doneCount < doneCbs.length) {
            freedBits[tag >>> 6] |= 1L << (tag & 63);
            freed++;
            doneCbs[doneCount] = cb;
            doneCookies[doneCount] = cookie;
            doneRes[doneCount++] = result;
            if (doneCount >= COMPLETION_BATCH) flushCompletions();
            return;
        }
        giveTag(tag); // outside a pass (e.g. a program's abort): at once
        cb.done(cookie, result);
    }

    /** Gives the pass's committed tags back, then runs their callbacks; a throwing callback does not stop the others. */
    private void flushCompletions() {
        if (freed > 0) {
            for (int w = 0; w < freedBits.length; w++) {
                if (freedBits[w] != 0) {
                    LONGS.getAndBitwiseAnd(tagBits, w, ~freedBits[w]);
                    freedBits[w] = 0;
                }
            }
            permits.release(freed);
            freed = 0;
        }
        int n = doneCount;
        doneCount = 0;
        RuntimeException failure = null;
        for (int i = 0; i < n; ) {
            // a run of completions for one receiver goes to it in one call
            IoCallback cb = doneCbs[i];
            int j = i + 1;
            while (j < n && doneCbs[j] == cb) j++;
            for (int k = i; k < j; k++) doneCbs[k] = null;
            try {
                if (j - i == 1) cb.done(doneCookies[i], doneRes[i]);
                else cb.doneAll(doneCookies, doneRes, i, j);
            } catch (RuntimeException e) {
                if (failure == null) failure = e;
                else failure.addSuppressed(e);
            }
            i = j;
        }
        if (failure != null) throw failure;
    }

    @Override
    public void wake() {
        signal();
    }

    /** One eventfd write: completes the armed read, so a waiting {@link #processEvents} returns. */
    private void signal() {
        if (closed) return;
        try {
            Libc.write(eventFd, ONE, 8);
        } catch (dev.ublkctl.sys.SyscallException e) {
            if (!closed) throw e; // closed meanwhile: nobody is left to wake
        }
    }

    /** Whether the serving thread may touch {@code buf} (a confined arena's memory it may not). */
    boolean accessible(MemorySegment buf) {
        Thread t = servingThread;
        return buf == null || t == null || buf.isAccessibleBy(t);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        ring.close();
        Libc.close(eventFd);
        Libc.munmap(buffers);
        Libc.munmap(descs);
        arena.close();
    }

    boolean closed() { return closed; }

    int maxIo() { return maxIo; }
}
