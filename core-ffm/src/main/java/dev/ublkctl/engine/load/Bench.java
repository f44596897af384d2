package dev.ublkctl.engine.load;
import dev.ublkctl.engine.Device;
import dev.ublkctl.engine.stats.DeviceStats;
import dev.ublkctl.engine.stats.LatencyRecorder;
import dev.ublkctl.engine.stats.LatencySnapshot;

import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.IoCallback;
import dev.ublkctl.ublk.IoOp;

import dev.ublkctl.ublk.SpinPolicy;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The engine of {@code ublkctl bench}: jobs (threads) that each keep {@code ioDepth} I/Os in flight
 * on a device through the allocation-free {@link BlockDevice#submit} path. Completion callbacks
 * only hand the slot back to the job (a lock-free stack), so the queue threads never block.
 */
public final class Bench {
    private Bench() {}

    /** SplitMix64 finalizer: the data and offsets of bench and verify. */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Runs a workload; {@code progress} (may be null) is called about every second from this thread. */
    public static BenchResult run(Device dev, BenchSpec spec, Consumer<BenchProgress> progress) {
        return run(dev, spec, progress, Duration.ofSeconds(1));
    }

    public static BenchResult run(Device dev, BenchSpec spec, Consumer<BenchProgress> progress, Duration interval) {
        BlockDevice blk = dev.block();
        int lbs = blk.logicalBlockSize();
        if (spec.blockSize() % lbs != 0)
            throw new IllegalArgumentException("block size " + spec.blockSize() + " is not a multiple of the logical block size " + lbs);
        long regionLen = spec.length() == 0 ? blk.size() - spec.offset() : spec.length();
        if (spec.offset() % lbs != 0 || spec.offset() + regionLen > blk.size() || regionLen < spec.blockSize())
            throw new IllegalArgumentException("region [" + spec.offset() + ", +" + regionLen + ") does not fit "
                    + spec.blockSize() + "-byte I/Os inside the device (size " + blk.size() + ")");
        DeviceStats before = dev.stats();
        long blocks = regionLen / spec.blockSize();
        List<Job> jobs = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            long runtime = spec.runtime().isZero() ? Long.MAX_VALUE : spec.runtime().toNanos();
            for (int j = 0; j < spec.numJobs(); j++) {
                long quota = spec.ioCount() == 0 ? Long.MAX_VALUE
                        : spec.ioCount() / spec.numJobs() + (j < spec.ioCount() % spec.numJobs() ? 1 : 0);
                jobs.add(new Job(j, blk, spec, arena, blocks, quota, runtime, j % blk.nrQueues()));
            }
            long t0 = System.nanoTime();
            for (Job j : jobs) j.thread.start();
            long lastT = t0, lastIos = 0, lastBytes = 0;
            long step = Math.max(1, interval.toNanos());
            while (true) {
                boolean alive = false;
                for (Job j : jobs) {
                    try {
                        j.thread.join(Math.max(1, step / 1_000_000 / jobs.size()));
                    } catch (InterruptedException e) {
                        for (Job k : jobs) k.stop = true;
                        Thread.currentThread().interrupt();
                    }
                    alive |= j.thread.isAlive();
                }
                long now = System.nanoTime();
                if (progress != null && (now - lastT >= step || !alive)) {
                    long ios = 0, bytes = 0;
                    for (Job j : jobs) {
                        ios += j.count(Job.R_IOS) + j.count(Job.W_IOS);
                        bytes += j.count(Job.R_BYTES) + j.count(Job.W_BYTES);
                    }
                    double dt = Math.max(1, now - lastT) / 1e9;
                    progress.accept(new BenchProgress(Duration.ofNanos(now - t0), ios, bytes, (ios - lastIos) / dt,
                            (bytes - lastBytes) / dt / 1e6));
                    lastT = now;
                    lastIos = ios;
                    lastBytes = bytes;
                }
                if (!alive) break;
            }
            long elapsed = jobs.stream().mapToLong(j -> j.endNanos).max().orElse(System.nanoTime()) - t0;
            for (Job j : jobs) if (j.failure != null) throw new IllegalStateException("bench job " + j.id + " failed: " + j.failure.getMessage(), j.failure);
            long rIos = 0, wIos = 0, rB = 0, wB = 0, errs = 0;
            LatencySnapshot lat = LatencySnapshot.empty();
            for (Job j : jobs) {
                rIos += j.count(Job.R_IOS);
                wIos += j.count(Job.W_IOS);
                rB += j.count(Job.R_BYTES);
                wB += j.count(Job.W_BYTES);
                errs += j.count(Job.ERRORS);
                lat = lat.plus(j.latency.snapshot());
            }
            DeviceStats delta = dev.stats().minus(before);
            double secs = Math.max(1, elapsed) / 1e9;
            return new BenchResult(spec, Duration.ofNanos(elapsed), rIos, wIos, rB, wB, (rIos + wIos) / secs,
                    (rB + wB) / secs / 1e6, lat, errs, delta.total().bpfHandled(), delta.total().redirected(),
                    delta.total().splitParts());
        }
    }

    /** One job: a thread and its slots. */
    private static final class Job implements Runnable, IoCallback {
        static final int R_IOS = 0, W_IOS = 1, R_BYTES = 2, W_BYTES = 3, ERRORS = 4;
        private static final VarHandle L = MethodHandles.arrayElementVarHandle(long[].class);
        private static final VarHandle SLEEPING;
        static {
            try {
                SLEEPING = MethodHandles.lookup().findVarHandle(Job.class, "sleeping", boolean.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
        /**
         * How long the job polls for completions before it parks: about as long as its waits lately take,
         * up to 200 µs ({@code -Dublkctl.bench.spin.minNanos/maxNanos}); each park costs the thread that
         * completes the I/O (the busy queue thread) a wake-up.
         */
        private final SpinPolicy spin = SpinPolicy.fromProperties("ublkctl.bench.spin", 4_000, 200_000);

        final int id;
        final Thread thread;
        final BlockDevice blk;
        final BenchSpec spec;
        final long blocks, quota, runtime;
        long deadline;
        final int queue;
        final MemorySegment[] bufs;
        final long[] submitted;
        final int[] results, next;
        final boolean[] isRead;
        final AtomicInteger doneHead = new AtomicInteger(-1);
        final LatencyRecorder latency = new LatencyRecorder();
        final long[] counters = new long[5];
        /** Set by the job before it parks; the first completion to see it clears it and unparks. */
        volatile boolean sleeping;
        volatile boolean stop;
        volatile Throwable failure;
        volatile long endNanos;
        long issued, seqBlock, rng;

        Job(int id, BlockDevice blk, BenchSpec spec, Arena arena, long blocks, long quota, long runtime, int queue) {
            this.id = id;
            this.blk = blk;
            this.spec = spec;
            this.blocks = blocks;
            this.quota = quota;
            this.runtime = runtime;
            this.queue = queue;
            int d = spec.ioDepth();
            bufs = new MemorySegment[d];
            for (int i = 0; i < d; i++) {
                bufs[i] = arena.allocate(spec.blockSize(), 4096);
                for (long k = 0; k < spec.blockSize(); k += 8)
                    bufs[i].set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, k, mix(id * 1_000_003L + i * 131L + k));
            }
            submitted = new long[d];
            results = new int[d];
            next = new int[d];
            isRead = new boolean[d];
            seqBlock = blocks * id / spec.numJobs();
            rng = mix(spec.seed() * 0x9E3779B97F4A7C15L + id + 1);
            thread = Thread.ofPlatform().name("bench-job-" + id).daemon().unstarted(this);
        }

        static long mix(long z) { return mix64(z); }


        long nextRandom() { return rng = mix(rng + 0x9E3779B97F4A7C15L); }

        long count(int i) { return (long) L.getOpaque(counters, i); }

        private void add(int i, long d) { L.setOpaque(counters, i, counters[i] + d); }

        /** Queue thread: hand the slot back to the job. */
        @Override
        public void done(long slot, int result) {
            int s = (int) slot;
            results[s] = result;
            int h;
            do {
                h = doneHead.get();
                next[s] = h;
            } while (!doneHead.compareAndSet(h, s));
            // One unpark per park: later completions of the same burst see the flag cleared.
            if (sleeping && SLEEPING.compareAndSet(this, true, false)) LockSupport.unpark(thread);
        }

        /** Queue thread: a completion burst handed back with one push, so the job takes it whole. */
        @Override
        public void doneAll(long[] cookies, int[] res, int from, int to) {
            int first = -1, last = -1;
            for (int i = from; i < to; i++) {
                int s = (int) cookies[i];
                results[s] = res[i];
                next[s] = first;
                if (last == -1) last = s;
                first = s;
            }
            int h;
            do {
                h = doneHead.get();
                next[last] = h;
            } while (!doneHead.compareAndSet(h, first));
            if (sleeping && SLEEPING.compareAndSet(this, true, false)) LockSupport.unpark(thread);
        }

        private boolean more() {
            return !stop && issued < quota && System.nanoTime() < deadline;
        }

        private boolean issue(int slot) throws InterruptedException {
            Pattern p = spec.pattern();
            boolean read = switch (p) {
                case READ, RANDREAD -> true;
                case WRITE, RANDWRITE -> false;
                case RANDRW -> Long.remainderUnsigned(nextRandom(), 100) < spec.readPercent();
            };
            long block;
            if (p.random()) block = Long.remainderUnsigned(nextRandom(), blocks);
            else {
                block = seqBlock;
                seqBlock = seqBlock + 1 == blocks ? 0 : seqBlock + 1;
            }
            isRead[slot] = read;
            submitted[slot] = System.nanoTime();
            int r = blk.submit(queue, read ? IoOp.READ : IoOp.WRITE, spec.offset() + block * spec.blockSize(),
                    spec.blockSize(), bufs[slot], this, slot, true);
            if (r != 0) {
                add(ERRORS, 1);
                stop = true; // refused (device stopped): end the job
                return false;
            }
            issued++;
            return true;
        }

        private int inFlight;
        /** When the job started waiting for the next completions (0: not waiting). */
        private long waitFrom;

        @Override
        public void run() {
            long t0 = System.nanoTime();
            deadline = runtime == Long.MAX_VALUE || t0 + runtime < t0 ? Long.MAX_VALUE : t0 + runtime;
            try {
                try (BlockDevice.Plug plug = blk.plug()) {
                    for (int s = 0; s < spec.ioDepth() && more(); s++) if (issue(s)) inFlight++;
                }
                while (inFlight > 0) {
                    int h = doneHead.getAndSet(-1);
                    if (h == -1) {
                        if (waitFrom == 0) waitFrom = System.nanoTime();
                        long limit = spin.spinNanos();
                        if (SpinPolicy.tryStartSpin()) {
                            try {
                                for (int i = 1; doneHead.get() == -1; i++) {
                                    SpinPolicy.pause();
                                    if ((i & 31) == 0 && System.nanoTime() - waitFrom >= limit) break;
                                }
                            } finally {
                                SpinPolicy.endSpin();
                            }
                        }
                        if (doneHead.get() != -1) continue;
                        sleeping = true;
                        if (doneHead.get() == -1) LockSupport.parkNanos(this, 10_000_000L);
                        sleeping = false;
                        continue;
                    }
                    // Completion latency ends when the job reaps the burst (one clock read per burst, as
                    // fio reaps): the driver thread that runs done() does not read the clock for us.
                    long reapedAt = System.nanoTime();
                    if (waitFrom != 0) {
                        spin.waited(reapedAt - waitFrom);
                        waitFrom = 0;
                    }
                    // the burst's resubmissions as one batch: one wake-up of a sleeping queue thread
                    try (BlockDevice.Plug plug = blk.plug()) {
                        for (int s = h; s != -1; ) {
                            int nx = next[s];
                            inFlight--;
                            int res = results[s];
                            latency.record(reapedAt - submitted[s]);
                            if (res < 0) add(ERRORS, 1);
                            else if (isRead[s]) { add(R_IOS, 1); add(R_BYTES, res); }
                            else { add(W_IOS, 1); add(W_BYTES, res); }
                            if (more() && issue(s)) inFlight++;
                            s = nx;
                        }
                    }
                }
            } catch (Throwable t) {
                failure = t;
                // the buffers must outlive the I/O still using them
                long until = System.nanoTime() + 10_000_000_000L;
                while (inFlight > 0 && System.nanoTime() < until) {
                    int h = doneHead.getAndSet(-1);
                    for (int s = h; s != -1; s = next[s]) inFlight--;
                    if (h == -1) LockSupport.parkNanos(1_000_000L);
                }
            } finally {
                endNanos = System.nanoTime();
            }
        }
    }
}
