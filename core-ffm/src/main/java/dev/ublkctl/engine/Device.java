package dev.ublkctl.engine;

import dev.ublkctl.engine.stats.DeviceCounters;
import dev.ublkctl.engine.stats.DeviceStats;
import dev.ublkctl.engine.stats.QueueStats;

import dev.ublkctl.target.Target;
import dev.ublkctl.target.TargetType;
import dev.ublkctl.ublk.Backend;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.DeviceInfo;
import dev.ublkctl.ublk.DeviceParams;
import dev.ublkctl.ublk.UblkDriver;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One ublk device and its server: the target, one serving thread per queue, the attached
 * program and the statistics. Lifecycle: {@link Engine#create} (ADD_DEV + SET_PARAMS) →
 * {@link #start} → I/O → {@link #stop} → {@link #delete}. Thread-safe.
 */
public final class Device implements AutoCloseable {
    /** How long stop waits for the queue threads before reporting them stuck. */
    static final long STOP_TIMEOUT_MS = 10_000;

    final Engine engine;
    final UblkDriver driver;
    final DeviceInfo info;
    final DeviceParams params;
    final DeviceConfig config;
    final Target target;
    private final QueueWorker[] workers;
    private final Thread[] threads;
    private volatile DeviceState state = DeviceState.CREATED;
    volatile ServerHook serverHook;
    private volatile Attachment attachment;
    private volatile Throwable failure;

    Device(Engine engine, UblkDriver driver, DeviceInfo info, DeviceParams params, DeviceConfig config, Target target) {
        this.engine = engine;
        this.driver = driver;
        this.info = info;
        this.params = params;
        this.config = config;
        this.target = target;
        this.workers = new QueueWorker[info.nrQueues()];
        // one thread per queue unless fewer are asked for (the driver may have given fewer queues)
        int t = config.threads() == 0 ? info.nrQueues() : Math.min(config.threads(), info.nrQueues());
        this.threads = new Thread[t];
        for (int q = 0; q < workers.length; q++) workers[q] = new QueueWorker(this, q, info.queueDepth());
    }

    public int id() { return info.devId(); }
    public DeviceConfig config() { return config.withId(info.devId()).withSize(size()); }
    public long size() { return params.sizeBytes(); }
    public int logicalBlockSize() { return params.logicalBlockSize(); }
    public int nrQueues() { return info.nrQueues(); }
    public int queueDepth() { return info.queueDepth(); }
    public int maxIoBytes() { return info.maxIoBufBytes(); }
    /** Serving threads: one per queue, or fewer each serving several queues. */
    public int nrThreads() { return threads.length; }
    public DeviceState state() { return state; }
    public TargetType targetType() { return target.type(); }
    public Backend backend() { return driver.backend(); }
    /** The Java target (for its backing files). */
    public Target target() { return target; }
    /** Why a queue thread failed, if one did (the device is then stopped). */
    public java.util.Optional<Throwable> failure() { return java.util.Optional.ofNullable(failure); }

    /** Starts one thread per queue, then START_DEV. */
    public synchronized void start() { start(false); }

    /**
     * For a device from {@link Engine#recover}: starts one thread per queue (each fetches all its
     * tags), then END_USER_RECOVERY; the I/O the kernel held while the old server was gone goes on.
     */
    public synchronized void startRecovered() { start(true); }

    /** Whether the driver keeps this device for recovery if its server dies. */
    public boolean recoverable() { return (info.flags() & driver.recoveryFlags()) != 0; }

    private void start(boolean recovering) {
        if (state != DeviceState.CREATED) throw new IllegalStateException("device " + id() + " is " + state.name().toLowerCase() + ", not created");
        if (threads.length == workers.length) {
            for (int q = 0; q < workers.length; q++) {
                threads[q] = Thread.ofPlatform().name("ublk-d" + id() + "-q" + q).daemon().unstarted(workers[q]);
                threads[q].start();
            }
        } else {
            // thread t serves queues t, t + T, t + 2T, ...
            for (int t = 0; t < threads.length; t++) {
                List<QueueWorker> mine = new ArrayList<>();
                for (int q = t; q < workers.length; q += threads.length) mine.add(workers[q]);
                threads[t] = Thread.ofPlatform().name("ublk-d" + id() + "-t" + t).daemon().unstarted(new QueueGroup(mine));
                threads[t].start();
            }
        }
        Throwable fail = null;
        for (QueueWorker w : workers) {
            try {
                w.ready.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail = e;
            }
            if (w.startFailure != null && fail == null) fail = w.startFailure;
        }
        if (fail == null) {
            try {
                Attachment a = attachment;
                if (a != null) a.onStart(this); // attach_dev runs right before the disk appears, as in the RFC
                if (recovering) driver.endRecovery(id());
                else driver.startDevice(id());
                state = DeviceState.LIVE;
                return;
            } catch (RuntimeException e) {
                fail = e;
            }
        }
        // undo: abort the queues that did open and wait for their threads
        driver.stopDevice(id());
        joinThreads();
        state = DeviceState.STOPPED;
        throw new IllegalStateException("device " + id() + " failed to start: " + fail.getMessage(), fail);
    }

    /** STOP_DEV: unfinished I/O fails with ENODEV; returns once the queue threads have ended. */
    public synchronized void stop() {
        if (state == DeviceState.STOPPED || state == DeviceState.DELETED) return;
        for (Thread t : threads)
            if (t == Thread.currentThread())
                throw new IllegalStateException("device " + id() + " cannot be stopped from its own queue thread (an I/O callback or hook)");
        boolean wasLive = state == DeviceState.LIVE;
        state = DeviceState.STOPPED;
        driver.stopDevice(id());
        if (wasLive) joinThreads();
        Attachment a = attachment;
        if (a != null && wasLive) a.onStop(this);
    }

    private void joinThreads() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_TIMEOUT_MS);
        List<String> stuck = new ArrayList<>();
        for (Thread t : threads) {
            if (t == null) continue;
            try {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left > 0) t.join(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) stuck.add(t.getName());
        }
        if (!stuck.isEmpty())
            throw new IllegalStateException("device " + id() + ": queue threads did not end within "
                    + STOP_TIMEOUT_MS + " ms: " + stuck);
    }

    /** DEL_DEV: frees the device; stops it first if needed. */
    public synchronized void delete() {
        if (state == DeviceState.DELETED) return;
        List<Device> upper = engine.upperOf(this);
        if (!upper.isEmpty())
            throw new DeviceBusyException("device " + id() + " backs device" + (upper.size() > 1 ? "s " : " ")
                    + upper.stream().map(u -> String.valueOf(u.id())).collect(java.util.stream.Collectors.joining(", "))
                    + " (ublk:" + id() + "): delete " + (upper.size() > 1 ? "those" : "that one") + " first (EBUSY)");
        stop();
        try {
            Attachment a = attachment;
            if (a != null) a.onDelete(this);
            attachment = null;
            driver.deleteDevice(id());
        } finally {
            target.close();
            state = DeviceState.DELETED;
            engine.forget(this);
        }
    }

    @Override
    public void close() { delete(); }

    /** The block side, while live. */
    public BlockDevice block() {
        if (state != DeviceState.LIVE) throw new IllegalStateException("device " + id() + " is " + state.name().toLowerCase() + ", not live");
        return driver.blockDevice(id()).orElseThrow(() ->
                new UnsupportedOperationException("the " + driver.backend() + " driver offers no in-process block access"));
    }

    /** Snapshot of every queue's counters and their sum. */
    public DeviceStats stats() {
        List<QueueStats> qs = new ArrayList<>(workers.length);
        for (QueueWorker w : workers) qs.add(w.counters.snapshot());
        return DeviceStats.of(id(), qs);
    }

    /**
     * Every queue's counters as plain numbers, their sum and one latency histogram for the device,
     * read in place (no per-queue snapshot or histogram copy): what an exporter needs, at a
     * fraction of {@link #stats()}'s cost for many queues.
     */
    public DeviceCounters counters() {
        DeviceCounters d = new DeviceCounters(id(), workers.length);
        for (int q = 0; q < workers.length; q++) workers[q].counters.addTo(d, q);
        return d.finish();
    }

    /** Sets (or clears, with null) the hook that sees every range served in Java. */
    public void setServerHook(ServerHook hook) { this.serverHook = hook; }

    // ------------------------------------------------------------------ programs

    /** What the engine needs from an attached program. */
    interface Attachment {
        ProgramQueue openQueue(QueueWorker w);
        default void onStart(Device d) {}
        default void onStop(Device d) {}
        default void onDelete(Device d) {}
    }

    /**
     * Attaches a program: every I/O goes to its {@code queue_io_cmd} first. On a live device it applies
     * from the next request on each queue and {@code attach_dev} runs now; otherwise at {@link #start}.
     * Replaces a program already attached. For loop/stripe devices the program's {@code loop_files} /
     * {@code stripe_cfg} map gets this device's backing files.
     *
     * @throws IllegalStateException if {@code attach_dev} returns non-zero (the program stays detached)
     */
    public synchronized void attach(UblkProgram program) { attach(program, p -> { }); }

    /**
     * {@link #attach(UblkProgram)}, with {@code prepare} run once the engine has filled the program's
     * maps for this device and before {@code attach_dev}: where a user's own map entries go
     * ({@code --map}). If it throws, the program stays detached.
     */
    public synchronized void attach(UblkProgram program, java.util.function.Consumer<UblkProgram> prepare) {
        if (state == DeviceState.DELETED) throw new IllegalStateException("device " + id() + " is deleted");
        if (attachment != null) detach();
        program.bind(this);
        try {
            prepare.accept(program);
        } catch (RuntimeException e) {
            program.unbind(this);
            throw e;
        }
        BpfAttachment a = new BpfAttachment(program);
        if (state == DeviceState.LIVE) {
            try {
                a.onStart(this);
            } catch (RuntimeException e) {
                program.unbind(this);
                throw e;
            }
        }
        setAttachment(a);
    }

    /** Detaches the program ({@code detach_dev} runs if the device is live); I/O it holds finishes first. */
    public synchronized void detach() {
        Attachment a = attachment;
        if (a == null) return;
        setAttachment(null);
        a.onDelete(this);
    }

    /** The attached program. */
    public java.util.Optional<UblkProgram> program() {
        return attachment instanceof BpfAttachment(UblkProgram p) ? java.util.Optional.of(p) : java.util.Optional.empty();
    }

    record BpfAttachment(UblkProgram program) implements Attachment {
        @Override
        public ProgramQueue openQueue(QueueWorker w) {
            Device d = w.dev;
            return new BpfQueue(program, w, d.id(), d.queueDepth(), d.maxIoBytes(), d.target.fds(), w.queue.ring(), w.submitContext());
        }

        @Override
        public void onStart(Device d) {
            int r = program.runAttach(d.id());
            if (r != 0)
                throw new IllegalStateException("attach_dev(" + d.id() + ") of " + program.name() + " returned " + r
                        + (r < 0 ? " (" + dev.ublkctl.sys.Errno.name(r) + ")" : ""));
        }

        @Override
        public void onStop(Device d) { program.runDetach(d.id()); }

        @Override
        public void onDelete(Device d) { program.unbind(d); }
    }

    /** Attaches (or, with null, detaches) a program runtime; applies between I/Os on live devices. */
    synchronized void setAttachment(Attachment a) {
        if (state == DeviceState.DELETED) throw new IllegalStateException("device " + id() + " is deleted");
        Attachment old = attachment;
        attachment = a;
        if (state == DeviceState.LIVE) {
            for (QueueWorker w : workers) {
                try {
                    w.queue.wake();
                } catch (RuntimeException ignored) {
                    // queue already closing; the next request sees the change anyway
                }
            }
        }
        if (old != null && old != a && state == DeviceState.LIVE) old.onStop(this);
    }

    Attachment attachment() { return attachment; }

    Object programOwner() { return attachment; }

    ProgramQueue openProgramQueue(QueueWorker w) {
        Attachment a = attachment;
        return a == null ? null : a.openQueue(w);
    }

    void queueFailed(int q, Throwable t) {
        failure = t;
        // stop from another thread: stop() joins the queue threads, this one included
        Thread.ofPlatform().daemon().name("ublk-d" + id() + "-abort").start(() -> {
            try {
                stop();
            } catch (RuntimeException e) {
                java.util.logging.Logger.getLogger(Device.class.getName()).warning("stopping device " + id() + ": " + e.getMessage());
            }
        });
    }
}
