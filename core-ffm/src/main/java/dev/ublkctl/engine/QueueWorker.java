package dev.ublkctl.engine;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.target.PartCompleter;
import dev.ublkctl.target.TargetQueue;
import dev.ublkctl.ublk.IoDesc;
import dev.ublkctl.ublk.IoOp;
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
 */
final class QueueWorker implements Runnable, UblkQueue.Handler, PartCompleter {
    private static final Logger LOG = Logger.getLogger(QueueWorker.class.getName());

    final Device dev;
    final int qid;
    final StatsRecorder stats;
    final CountDownLatch ready = new CountDownLatch(1);
    volatile Throwable startFailure;
    /** Events seen by this worker's handler so far: a thread serving several queues blocks only after a pass with none. */
    long events;
    /** A step threw: the device is being stopped and the queue only drains. */
    private boolean failed;
    UblkQueue queue;
    TargetQueue target;
    MemorySegment descs;
    private ProgramQueue program;
    private Object programOwner;

    // per tag, preallocated
    private final int depth;
    private final long[] start;
    private final int[] holds, err, total;
    private final byte[] op;
    private final boolean[] programCompleted, bounced, viaProgram;
    private final int[] programRes;

    QueueWorker(Device dev, int qid, int depth) {
        this.dev = dev;
        this.qid = qid;
        this.depth = depth;
        this.stats = new StatsRecorder(qid);
        start = new long[depth];
        holds = new int[depth];
        err = new int[depth];
        total = new int[depth];
        op = new byte[depth];
        programCompleted = new boolean[depth];
        bounced = new boolean[depth];
        viaProgram = new boolean[depth];
        programRes = new int[depth];
    }

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
            queue = dev.driver.openQueue(dev.id(), qid);
            descs = queue.descriptors();
            target = dev.target.openQueue(queue.ring(), depth, dev.maxIoBytes(), this);
            if (eventFd >= 0) queue.ring().registerEventFd(eventFd);
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
        if (program != null) program.abort();
        queue.close();
    }

    /** Picks up an attach/detach: a new program serves new requests; the old one finishes its own. */
    private void syncProgram() {
        Object owner = dev.programOwner();
        if (owner == programOwner) return;
        if (program != null && program.inFlight() > 0) return; // switch once the old one is idle
        if (program != null) program.abort();
        programOwner = owner;
        program = owner == null ? null : dev.openProgramQueue(this);
    }

    // ------------------------------------------------------------------ UblkQueue.Handler

    @Override
    public void onRequest(int tag) {
        events++;
        syncProgram();
        int o = IoDesc.op(descs, tag);
        start[tag] = System.nanoTime();
        stats.started();
        op[tag] = (byte) o;
        total[tag] = IoDesc.nrSectors(descs, tag) << IoDesc.SECTOR_SHIFT;
        err[tag] = 0;
        holds[tag] = 1;
        programCompleted[tag] = false;
        bounced[tag] = false;
        viaProgram[tag] = program != null;
        try {
            if (IoOp.ofCode(o) == null) fail(tag, -Errno.EOPNOTSUPP);
            else if (program != null) program.dispatch(tag, false);
            else serve(tag, 0);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "request at tag " + tag + " of queue " + qid + " failed", e);
            fail(tag, -Errno.EIO);
        }
        release(tag);
    }

    @Override
    public void onServerCompletion(long userData, int res, int flags) {
        events++;
        if ((userData & ProgramQueue.AIO_UD) != 0) {
            if (program != null) program.onAioCompletion(userData, res);
            else LOG.warning("aio completion 0x" + Long.toHexString(userData) + " without a program");
        } else {
            target.onCompletion(userData, res);
        }
    }

    @Override
    public boolean serverBusy() {
        return target.inFlight() > 0 || (program != null && program.inFlight() > 0);
    }

    // ------------------------------------------------------------------ request state

    int queueId() { return qid; }

    MemorySegment descriptors() { return descs; }

    int totalBytes(int tag) { return total[tag]; }

    /** Serves {@code [off, total)} of the request in Java (hook, then target). */
    void serve(int tag, int off) {
        if (viaProgram[tag]) stats.redirected();
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
        if (result == -Errno.EAGAIN && program != null && viaProgram[tag] && !bounced[tag]) {
            // RFC: the server bounced the I/O back to BPF with -EAGAIN
            bounced[tag] = true;
            try {
                program.dispatch(tag, true);
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
    void programRelease(int tag, boolean completed, int res) {
        if (completed) {
            programCompleted[tag] = true;
            programRes[tag] = res;
            if (res < 0) fail(tag, res);
        }
        release(tag);
    }

    private void release(int tag) {
        if (--holds[tag] > 0) return;
        int res;
        if (err[tag] != 0) res = err[tag];
        else if (programCompleted[tag]) res = programRes[tag];
        else res = op[tag] == IoOp.FLUSH.code ? 0 : total[tag];
        stats.completed(op[tag], total[tag], res, System.nanoTime() - start[tag]);
        queue.commit(tag, res);
    }
}
