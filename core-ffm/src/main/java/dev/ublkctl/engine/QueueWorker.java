package dev.ublkctl.engine;

import dev.ublkctl.engine.stats.StatsRecorder;
import dev.ublkctl.engine.stats.QueueCounters;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.target.PartCompleter;
import dev.ublkctl.target.TargetQueue;
import dev.ublkctl.ublk.IoDesc;
import dev.ublkctl.ublk.IoOp;
import dev.ublkctl.ublk.SubmitHook;
import dev.ublkctl.ublk.UblkQueue;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The serving thread of one queue: fetches requests, runs the attached program (if any),
 * sends what is left to the Java target, and commits each request once everything that holds
 * it is done. A request is held by the dispatch in progress, by a target range in flight and by
 * the program (until the program's reference on the I/O drops); the first error wins.
 *
 * <p>Where the driver offers the submitter's context ({@link SubmitHook}, the emulated driver),
 * {@link #onSubmit} runs the program's {@code queue_io_cmd} on the submitting thread: an I/O the
 * program completes is committed there, with no hand-off; what it redirects (or the rest after
 * CONTINUE) reaches this thread with the request already started, and {@link #onRequest} goes on
 * from where the submitter stopped ({@code cont}). A tag is touched by one thread at a time.
 */
final class QueueWorker implements Runnable, UblkQueue.Handler, PartCompleter, SubmitHook {
    private static final Logger LOG = Logger.getLogger(QueueWorker.class.getName());
    /** {@code cont[tag]}: a fresh request (not started by a submitter). */
    private static final int FRESH = Integer.MIN_VALUE;

    /** The program this queue runs and the attachment it came from; replaced as a whole. */
    private record Active(Object owner, ProgramQueue program) {}

    final Device dev;
    final int qid;
    final QueueCounters counters;
    final CountDownLatch ready = new CountDownLatch(1);
    volatile Throwable startFailure;
    /** Events seen by this worker's handler so far: a thread serving several queues blocks only after a pass with none. */
    long events;
    /** A step threw: the device is being stopped and the queue only drains. */
    private boolean failed;
    UblkQueue queue;
    TargetQueue target;
    MemorySegment descs;
    private volatile Active active = new Active(null, null);
    /** The driver runs {@link #onSubmit} in submitters' threads. */
    private boolean submitHook;

    // per tag, preallocated
    private final int depth;
    private final long[] start;
    private final int[] holds, err, total, cont;
    private final byte[] op;
    private final boolean[] programCompleted, bounced, viaProgram;
    private final int[] programRes;
    /** When the program let go of the request (its clock), for a commit that follows at once. */
    private final long[] programDoneAt;

    QueueWorker(Device dev, int qid, int depth) {
        this.dev = dev;
        this.qid = qid;
        this.depth = depth;
        this.counters = new QueueCounters(qid);
        start = new long[depth];
        holds = new int[depth];
        err = new int[depth];
        total = new int[depth];
        cont = new int[depth];
        java.util.Arrays.fill(cont, FRESH);
        op = new byte[depth];
        programCompleted = new boolean[depth];
        bounced = new boolean[depth];
        viaProgram = new boolean[depth];
        programRes = new int[depth];
        programDoneAt = new long[depth];
    }

    /** The calling thread's counters of this queue. */
    StatsRecorder stats() { return counters.get(); }

    @Override
    public void run() {
        if (!open()) return;
        while (step(true)) { }
        finish();
    }

    /** Opens the queue on the calling thread (the kernel binds a queue to it); false if it failed (reported through {@link #ready}). */
    boolean open() { return open(-1); }

    /** {@link #open()}, and with {@code eventFd} ≥ 0 that eventfd registered on the queue's ring (see {@link QueueGroup}). */
    boolean open(int eventFd) {
        try {
            counters.serveFrom(Thread.currentThread());
            queue = dev.driver.openQueue(dev.id(), qid);
            descs = queue.descriptors();
            target = dev.target.openQueue(queue.ring(), depth, dev.maxIoBytes(), this);
            if (eventFd >= 0) queue.ring().registerEventFd(eventFd);
            submitHook = queue.setSubmitHook(this);
            syncProgram(); // a program attached before start serves the first request in the submitter already
        } catch (Throwable t) {
            startFailure = t;
            ready.countDown();
            if (queue != null) queue.close();
            queue = null;
            return false;
        }
        ready.countDown();
        return true;
    }

    /**
     * One round of the queue (blocking for an event with {@code wait}); false once the queue is
     * done. A failure stops the device; the queue then drains until the driver aborts it.
     */
    boolean step(boolean wait) {
        try {
            if (failed) return queue.processEvents(this, wait);
            boolean more = queue.processEvents(this, wait);
            if (more) syncProgram();
            return more;
        } catch (Throwable t) {
            if (failed) return false;   // the queue is broken beyond repair; close releases it
            failed = true;
            LOG.log(Level.SEVERE, "queue " + qid + " of device " + dev.id() + " failed; stopping the device", t);
            dev.queueFailed(qid, t);
            return true;   // keep serving completions until the driver aborts us, so nothing is left hanging
        }
    }

    /** After the last {@link #step}: releases the program's queue and the driver queue. */
    void finish() {
        if (submitHook) queue.setSubmitHook(null);
        ProgramQueue p = active.program();
        if (p != null) p.abort();
        queue.close();
    }

    /**
     * Picks up an attach/detach: a new program serves new requests; the old one finishes its own.
     * The old one is retired first (no submitter enters it any more) and freed only once idle, so a
     * submitter never runs a program whose memory is gone.
     */
    private void syncProgram() {
        Object owner = dev.programOwner();
        Active a = active;
        if (owner == a.owner()) return;
        ProgramQueue old = a.program();
        if (old != null) {
            old.retire();
            if (old.inFlight() > 0) return; // switch once the old one is idle
            old.abort();
        }
        active = new Active(owner, owner == null ? null : dev.openProgramQueue(this));
    }

    // ------------------------------------------------------------------ SubmitHook (submitter's thread)

    @Override
    public boolean onSubmit(int tag) {
        Active a = active;
        ProgramQueue p = a.program();
        // no program, one that runs only in the daemon context, or an attach/detach not yet picked up: serving thread
        if (p == null || a.owner() != dev.programOwner() || !p.submitContext() || !p.tryEnter()) return false;
        boolean handedOn = false;
        try {
            begin(tag, true);
            if (IoOp.ofCode(op[tag]) == null) {
                fail(tag, -Errno.EOPNOTSUPP);
            } else {
                int r = p.dispatch(tag, ProgramQueue.SUBMIT, start[tag]);
                if (r != ProgramQueue.DONE) {
                    cont[tag] = r; // the serving thread goes on from here, with this dispatch's hold
                    handedOn = true;
                }
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "request at tag " + tag + " of queue " + qid + " failed in the submitter", e);
            fail(tag, -Errno.EIO);
        } finally {
            try {
                // may commit here: QUEUED and done, no hand-off (at the clock the program ended, no new read)
                if (!handedOn) release(tag, programDoneAt[tag]);
            } finally {
                p.flushSubmitted(); // aio go out after our last touch of the request
                p.exit();
            }
        }
        return !handedOn;
    }

    // ------------------------------------------------------------------ UblkQueue.Handler

    private void begin(int tag, boolean program) {
        int o = IoDesc.op(descs, tag);
        start[tag] = System.nanoTime();
        stats().started();
        op[tag] = (byte) o;
        total[tag] = IoDesc.nrSectors(descs, tag) << IoDesc.SECTOR_SHIFT;
        err[tag] = 0;
        holds[tag] = 1;
        programCompleted[tag] = false;
        bounced[tag] = false;
        viaProgram[tag] = program;
        programDoneAt[tag] = 0;
    }

    @Override
    public void onRequest(int tag) {
        events++;
        syncProgram();
        ProgramQueue program = active.program();
        int c = cont[tag];
        if (c != FRESH) {
            // started in the submitter: queue_io_cmd redirected (all, or the rest after CONTINUE)
            cont[tag] = FRESH;
            try {
                if (c == ProgramQueue.TO_DAEMON) c = program == null ? 0 : program.dispatch(tag, ProgramQueue.DAEMON, 0);
                if (c >= 0) serve(tag, c);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "request at tag " + tag + " of queue " + qid + " failed", e);
                fail(tag, -Errno.EIO);
            }
            release(tag);
            return;
        }
        begin(tag, program != null);
        try {
            if (IoOp.ofCode(op[tag]) == null) fail(tag, -Errno.EOPNOTSUPP);
            else if (program != null) afterDispatch(tag, program.dispatch(tag, ProgramQueue.FULL, start[tag]));
            else serve(tag, 0);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "request at tag " + tag + " of queue " + qid + " failed", e);
            fail(tag, -Errno.EIO);
        }
        release(tag);
    }

    private void afterDispatch(int tag, int r) {
        if (r >= 0) serve(tag, r);
    }

    @Override
    public void onServerCompletion(long userData, int res, int flags) {
        events++;
        if ((userData & ProgramQueue.AIO_UD) != 0) {
            ProgramQueue p = active.program();
            if (p != null) p.onAioCompletion(userData, res);
            else if ((userData & 0xffff_ff00_0000_0000L & ~(UblkQueue.SERVER_UD | ProgramQueue.AIO_UD)) == 0)
                LOG.warning("aio completion 0x" + Long.toHexString(userData) + " without a program");
        } else {
            target.onCompletion(userData, res);
        }
    }

    @Override
    public boolean serverBusy() {
        ProgramQueue p = active.program();
        return target.inFlight() > 0 || (p != null && p.inFlight() > 0);
    }

    // ------------------------------------------------------------------ request state

    int queueId() { return qid; }

    /** Whether programs may run in submitters' threads on this queue. */
    boolean submitContext() { return submitHook; }

    MemorySegment descriptors() { return descs; }

    int totalBytes(int tag) { return total[tag]; }

    /** Serves {@code [off, total)} of the request in Java (hook, then target); serving thread only. */
    void serve(int tag, int off) {
        if (viaProgram[tag]) stats().redirected();
        IoOp o = IoOp.ofCode(op[tag]);
        long devOff = o == IoOp.FLUSH ? 0 : IoDesc.startSector(descs, tag) << IoDesc.SECTOR_SHIFT;
        int len = total[tag] - off;
        ServerHook hook = dev.serverHook;
        if (hook != null) {
            int r = hook.onServe(qid, tag, o, devOff + off, len, viaProgram[tag]);
            if (r < 0) {
                holds[tag]++;
                partDone(tag, r);
                return;
            }
        }
        holds[tag]++;
        long buf = o.hasData() ? queue.ioBuffer(tag).address() + off : 0;
        target.submit(tag, o, o == IoOp.FLUSH ? 0 : devOff + off, o == IoOp.FLUSH ? 0 : len, buf);
    }

    @Override
    public void partDone(int tag, int result) {
        ProgramQueue program = active.program();
        if (result == -Errno.EAGAIN && program != null && viaProgram[tag] && !bounced[tag]) {
            // RFC: the server bounced the I/O back to BPF with -EAGAIN
            bounced[tag] = true;
            try {
                program.dispatch(tag, ProgramQueue.BOUNCE, 0);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "bounce of tag " + tag + " failed", e);
                fail(tag, -Errno.EIO);
            }
        } else if (result < 0) {
            fail(tag, result);
        }
        release(tag);
    }

    /** Whether the request at {@code tag} was already bounced (a second REDIRECT fails it). */
    boolean bounced(int tag) { return bounced[tag]; }

    /** Records an error for the request (the first one wins). */
    void fail(int tag, int errno) {
        if (err[tag] == 0) err[tag] = errno;
    }

    /** The program takes a hold on the request (its ublk_bpf_io reference). */
    void programHold(int tag) { holds[tag]++; }

    /** The program's hold ends; {@code completed}: it completed the I/O with {@code res}. */
    void programRelease(int tag, boolean completed, int res, long clock) {
        programDoneAt[tag] = clock;
        if (completed) {
            programCompleted[tag] = true;
            programRes[tag] = res;
            if (res < 0) fail(tag, res);
        }
        release(tag, clock); // the last hold (an aio completion): commits now
    }

    private void release(int tag) { release(tag, 0); }

    /** {@code now}: a clock reading just taken, or 0 to read it if this commits. */
    private void release(int tag, long now) {
        if (--holds[tag] > 0) return;
        int res;
        if (err[tag] != 0) res = err[tag];
        else if (programCompleted[tag]) res = programRes[tag];
        else res = op[tag] == IoOp.FLUSH.code ? 0 : total[tag];
        stats().completed(op[tag], total[tag], res, (now != 0 ? now : System.nanoTime()) - start[tag]);
        queue.commit(tag, res);
    }
}
