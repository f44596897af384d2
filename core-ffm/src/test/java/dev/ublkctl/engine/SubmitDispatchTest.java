package dev.ublkctl.engine;

import dev.ublkctl.engine.load.Bench;
import dev.ublkctl.engine.load.BenchResult;
import dev.ublkctl.engine.load.BenchSpec;
import dev.ublkctl.engine.load.Pattern;
import dev.ublkctl.engine.load.Verifier;
import dev.ublkctl.engine.load.VerifyResult;
import dev.ublkctl.engine.load.VerifySpec;
import dev.ublkctl.engine.stats.QueueStats;

import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.sys.Errno;
import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.BlockIoException;
import dev.ublkctl.ublk.IoCallback;
import dev.ublkctl.ublk.IoOp;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Programs run where the RFC runs them: queue_io_cmd in the submitter's thread (QUEUED completes
 * there, no hand-off), what it redirects and queue_io_cmd_daemon in the serving thread.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SubmitDispatchTest {
    @TempDir static Path dir;
    static Path aioObj, faultObj, percpuObj;

    @BeforeAll
    static void build() throws Exception {
        aioObj = BpfFixtures.compile("submit_aio", dir);
        faultObj = BpfFixtures.compile("engine_faults", dir);
        percpuObj = BpfFixtures.compile("percpu_count", dir);
    }

    /** Runs {@code perThread} 4 KiB reads from each of {@code threads} threads; returns the callbacks' threads by name. */
    private static ConcurrentHashMap<String, AtomicLong> readFromThreads(BlockDevice b, int threads, int perThread, AtomicInteger bad)
            throws Exception {
        ConcurrentHashMap<String, AtomicLong> where = new ConcurrentHashMap<>();
        List<Thread> ts = new ArrayList<>();
        try (Arena a = Arena.ofShared()) {
            for (int t = 0; t < threads; t++) {
                MemorySegment[] bufs = new MemorySegment[8];
                for (int i = 0; i < bufs.length; i++) bufs[i] = a.allocate(4096, 4096);
                int id = t;
                ts.add(Thread.ofPlatform().name("submitter-" + t).start(() -> {
                    AtomicInteger inFlight = new AtomicInteger();
                    IoCallback cb = (c, res) -> {
                        if (res != 4096) bad.incrementAndGet();
                        where.computeIfAbsent(Thread.currentThread().getName(), k -> new AtomicLong()).incrementAndGet();
                        inFlight.decrementAndGet();
                    };
                    try {
                        for (int i = 0; i < perThread; i++) {
                            while (inFlight.get() >= bufs.length) Thread.onSpinWait();
                            inFlight.incrementAndGet();
                            long off = ((long) (id * perThread + i) % 4096) * 4096;
                            int r = b.submit(0, IoOp.READ, off, 4096, bufs[i % bufs.length], cb, i, true);
                            if (r != 0) {
                                bad.incrementAndGet();
                                inFlight.decrementAndGet();
                            }
                        }
                        while (inFlight.get() > 0) Thread.onSpinWait();
                    } catch (InterruptedException e) {
                        bad.incrementAndGet();
                    }
                }));
            }
            for (Thread t : ts) t.join();
        }
        return where;
    }

    @Test
    void queuedCompletesInEachSubmittersThread() throws Exception {
        UblkProgram p = UblkProgram.load(dev.ublkctl.bpf.object.BpfObject.load(BpfFixtures.bundled("null")), OpsRef.id(0));
        try (Engine e = Engine.emulated()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Null(1L << 30)).withQueues(1).withDepth(32));
            d.attach(p);
            d.start();
            AtomicInteger served = new AtomicInteger();
            d.setServerHook((q, tag, op, off, len, redirected) -> { served.incrementAndGet(); return 0; });
            AtomicInteger bad = new AtomicInteger();
            var where = readFromThreads(d.block(), 6, 3000, bad);
            assertEquals(0, bad.get());
            assertEquals(0, served.get(), "no QUEUED I/O reaches the server");
            long total = 0;
            for (var en : where.entrySet()) {
                assertTrue(en.getKey().startsWith("submitter-"), "completion ran on " + en.getKey());
                assertEquals(3000, en.getValue().get(), en.getKey());
                total += en.getValue().get();
            }
            assertEquals(18000, total);
            QueueStats s = d.stats().total();
            assertEquals(18000, s.ios());
            assertEquals(18000, s.bpfHandled());
            assertEquals(18000, s.latency().count(), "latency recorded once per I/O by whichever thread finished it");
            assertEquals(0, s.inFlight());
            assertEquals(18000, BpfNullTest.u64(p.map(".bss").orElseThrow().lookup(BpfNullTest.le32(0)), 0),
                    "the program's atomic counter saw every run from every thread");
        }
    }

    /**
     * Per-cpu values are a run's own, as with the kernel's migration-disabled BPF: six submitters of one
     * queue run the program at once, and a program that updates its cpu's slot without atomics (with a wide
     * window between load and store) never finds the slot busy and loses no count.
     */
    @Test
    void concurrentSubmittersNeverShareAPerCpuSlot() throws Exception {
        UblkProgram p = UblkProgram.load(dev.ublkctl.bpf.object.BpfObject.load(percpuObj), OpsRef.id(42));
        try (Engine e = Engine.emulated()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Null(1L << 30)).withQueues(1).withDepth(64));
            d.attach(p);
            d.start();
            AtomicInteger bad = new AtomicInteger();
            readFromThreads(d.block(), 6, 3000, bad);
            assertEquals(0, bad.get());
            byte[] bss = p.map(".bss").orElseThrow().lookup(BpfNullTest.le32(0));
            assertEquals(0, BpfNullTest.u64(bss, 0), "runs that found their cpu's slot busy");
            assertEquals(0, BpfNullTest.u64(bss, 8), "runs whose smp_processor_id was not their slot's cpu");
            VmMap slots = p.map("slots").orElseThrow();
            byte[] all = slots.lookup(BpfNullTest.le32(0));
            long sum = 0;
            for (int c = 0; c < slots.cpus(); c++) {
                assertEquals(0, BpfNullTest.u64(all, c * 16), "cpu " + c + " left busy");
                sum += BpfNullTest.u64(all, c * 16 + 8);
            }
            assertEquals(18000, sum, "every run's non-atomic increment kept");
            for (int c = 0; c < slots.cpus(); c++) assertFalse(p.cpus.leased(c), "cpu " + c + " still leased");
        }
    }

    /** The QUEUED path in the submitter allocates nothing per I/O (no boxing, no lambdas, no thread-local map growth). */
    @Test
    void queuedInTheSubmitterAllocatesNothingPerIo() throws Exception {
        var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        org.junit.jupiter.api.Assumptions.assumeTrue(mx.isThreadAllocatedMemorySupported(), "no per-thread allocation counter");
        UblkProgram p = UblkProgram.load(dev.ublkctl.bpf.object.BpfObject.load(BpfFixtures.bundled("null")), OpsRef.id(0));
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Null(1L << 30)).withQueues(1).withDepth(32));
            d.attach(p);
            d.start();
            BlockDevice b = d.block();
            MemorySegment buf = a.allocate(4096, 4096);
            long[] done = new long[1];
            IoCallback cb = (c, res) -> done[0] += res;
            long tid = Thread.currentThread().threadId();
            long before = 0;
            int n = 100_000;
            for (int round = 0; round < 4; round++) { // the last round is measured, after the JIT compiled the path
                before = mx.getThreadAllocatedBytes(tid);
                for (int i = 0; i < n; i++) assertEquals(0, b.submit(0, IoOp.READ, (i % 1024) * 4096L, 4096, buf, cb, i, true));
            }
            long bytes = mx.getThreadAllocatedBytes(tid) - before;
            assertEquals(4L * n * 4096, done[0], "every I/O completed inline");
            assertTrue(bytes < n / 10, bytes + " bytes allocated for " + n + " I/Os");
        }
    }

    /** A plugged submitter defers wake-ups to the end of its batch, but never waits for a tag while owing one. */
    @Test
    void aPluggedSubmitterThatMustWaitForATagWakesTheQueueFirst() throws Exception {
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.add(DeviceConfig.of(new TargetConfig.Null(1L << 30)).withQueues(1).withDepth(2));
            BlockDevice b = d.block();
            MemorySegment buf = a.allocate(4096, 4096);
            AtomicInteger ok = new AtomicInteger();
            IoCallback cb = (c, res) -> { if (res == 4096) ok.incrementAndGet(); };
            for (int round = 0; round < 50; round++) {
                Thread.sleep(1); // let the queue thread fall asleep: the first submission owes it a wake-up
                try (BlockDevice.Plug plug = b.plug()) {
                    for (int i = 0; i < 20; i++) assertEquals(0, b.submit(0, IoOp.READ, 0, 4096, buf, cb, i, true));
                }
            }
            long until = System.nanoTime() + 10_000_000_000L;
            while (ok.get() < 1000 && System.nanoTime() < until) Thread.sleep(1);
            assertEquals(1000, ok.get());
        }
    }

    @Test
    void redirectGoesToTheServingThreadAndBounceStillWorks() throws Exception {
        UblkProgram p = UblkProgram.load(dev.ublkctl.bpf.object.BpfObject.load(BpfFixtures.bundled("null")), OpsRef.id(2));
        p.map("null_cfg").orElseThrow().update(BpfNullTest.le32(0), BpfNullTest.le32(0, 1 << IoOp.READ.code, 0, 0), VmMap.BPF_ANY);
        try (Engine e = Engine.emulated()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Null(1L << 30)).withQueues(1).withDepth(64));
            d.attach(p);
            d.start();
            // every other served I/O is bounced back to BPF with -EAGAIN after setting bounce[key] (the RFC's test_null_04)
            AtomicInteger served = new AtomicInteger(), bounced = new AtomicInteger();
            VmMap bounce = p.map("bounce").orElseThrow();
            d.setServerHook((q, tag, op, off, len, redirected) -> {
                if (served.incrementAndGet() % 2 == 0) return 0;
                long key = ((long) d.id() << 32) | ((long) q << 16) | tag;
                byte[] k = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(key).array();
                try {
                    bounce.update(k, BpfNullTest.le32(1), VmMap.BPF_ANY);
                } catch (dev.ublkctl.bpf.maps.MapException x) {
                    throw new IllegalStateException(x);
                }
                bounced.incrementAndGet();
                return -Errno.EAGAIN;
            });
            AtomicInteger bad = new AtomicInteger();
            var where = readFromThreads(d.block(), 4, 2000, bad);
            assertEquals(0, bad.get());
            for (String t : where.keySet()) assertTrue(t.startsWith("ublk-d"), "a redirected I/O completed on " + t);
            QueueStats s = d.stats().total();
            assertEquals(8000, s.ios());
            assertEquals(8000, served.get());
            assertEquals(8000, s.redirected());
            assertTrue(bounced.get() >= 3990, "bounced " + bounced.get());
            assertEquals(0, s.errorCount());
            assertEquals(0, s.inFlight());
        }
    }

    @Test
    void aioFromTheSubmitterCompletesThroughTheAioCallback() throws Exception {
        UblkProgram p = UblkProgram.load(dev.ublkctl.bpf.object.BpfObject.load(aioObj), OpsRef.id(40));
        Path f = EngineBasicTest.file(dir, "subaio.img", 8 << 20);
        try (Engine e = Engine.emulated()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Loop(f)).withQueues(2).withDepth(32).withMaxIoBytes(128 << 10));
            d.attach(p);
            d.start();
            VerifyResult v = Verifier.run(d, new VerifySpec(0, 0, 16384, 8, 7), null);
            assertTrue(v.ok(), () -> v.firstMismatch().toString());
            BenchResult r = Bench.run(d, BenchSpec.of(Pattern.RANDRW).withIoCount(8000).withNumJobs(4).withIoDepth(16)
                    .withRuntime(Duration.ZERO), null);
            assertEquals(0, r.errors());
            assertEquals(8000, r.ios());
            QueueStats s = d.stats().total();
            assertEquals(0, s.errorCount());
            assertEquals(s.ios(), s.bpfHandled());
            assertEquals(s.ios(), s.aioSubmitted(), "one aio per I/O");
            assertEquals(s.aioSubmitted(), s.aioCompleted());
            assertEquals(0, s.redirected());
            assertEquals(0, s.inFlight());
        }
    }

    @Test
    void continueSplitsIntoAioAndTheTailGoesToTheServer() throws Exception {
        UblkProgram p = UblkProgram.load(dev.ublkctl.bpf.object.BpfObject.load(aioObj), OpsRef.id(41));
        p.map("redirect_tail").orElseThrow().update(BpfNullTest.le32(0), BpfNullTest.le32(1), VmMap.BPF_ANY);
        Path f = EngineBasicTest.file(dir, "split.img", 4 << 20);
        try (Engine e = Engine.emulated()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Loop(f)).withQueues(2).withMaxIoBytes(128 << 10));
            d.attach(p);
            d.start();
            VerifyResult v = Verifier.run(d, new VerifySpec(0, 0, 16384, 8, 9), null);
            assertTrue(v.ok(), () -> v.firstMismatch().toString());
            QueueStats s = d.stats().total();
            long rw = s.op(IoOp.READ).ios() + s.op(IoOp.WRITE).ios();
            assertTrue(rw > 0);
            assertEquals(0, s.errorCount());
            assertEquals(rw, s.redirected(), "each I/O's last 4 KiB went to the loop target");
            assertEquals(3 * rw, s.splitParts(), "16 KiB = three CONTINUE pieces, then the tail");
            assertEquals(3 * rw, s.aioSubmitted());
            assertEquals(s.aioSubmitted(), s.aioCompleted());
        }
    }

    @Test
    void aFaultInTheSubmittersThreadFailsThatIoOnly() throws Exception {
        UblkProgram bad = UblkProgram.load(dev.ublkctl.bpf.object.BpfObject.load(faultObj), OpsRef.id(104));
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Null(1 << 20)).withDepth(8));
            d.attach(bad);
            d.start();
            List<Thread> ts = new ArrayList<>();
            List<Integer> errnos = new CopyOnWriteArrayList<>();
            for (int t = 0; t < 3; t++) {
                ts.add(Thread.ofPlatform().name("faulting-" + t).start(() -> {
                    MemorySegment buf = a.allocate(4096, 4096);
                    for (int i = 0; i < 50; i++) {
                        CompletionException x = assertThrows(CompletionException.class, () -> d.block().read(0, buf).join());
                        errnos.add(((BlockIoException) x.getCause()).errno());
                    }
                }));
            }
            for (Thread t : ts) t.join();
            assertEquals(150, errnos.size(), "every submitter thread survived its faults");
            for (int en : errnos) assertEquals(Errno.EFAULT, en);
            assertEquals(150, d.stats().total().errors().get(Errno.EFAULT));
            // the device survives too: the next program serves
            d.attach(UblkProgram.load(dev.ublkctl.bpf.object.BpfObject.load(BpfFixtures.bundled("null")), OpsRef.id(0)));
            MemorySegment buf = a.allocate(4096, 4096);
            for (int i = 0; i < 20; i++) assertEquals(4096, d.block().read(0, buf).join());
            assertEquals(0, d.stats().total().inFlight());
        }
    }

    @Test
    void attachAndDetachUnderLoadNeverLoseAnIo() throws Exception {
        UblkProgram p = UblkProgram.load(dev.ublkctl.bpf.object.BpfObject.load(BpfFixtures.bundled("null")), OpsRef.id(0));
        try (Engine e = Engine.emulated()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Null(1L << 30)).withQueues(2).withDepth(16));
            d.start();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger toggles = new AtomicInteger();
            Thread toggler = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    d.attach(p);
                    Thread.yield();
                    d.detach();
                    toggles.incrementAndGet();
                }
            });
            BenchResult r = Bench.run(d, BenchSpec.of(Pattern.RANDREAD).withIoCount(60_000).withNumJobs(4).withIoDepth(8)
                    .withRuntime(Duration.ZERO), null);
            stop.set(true);
            toggler.join();
            assertEquals(0, r.errors());
            assertEquals(60_000, r.ios());
            assertTrue(toggles.get() > 0);
            QueueStats s = d.stats().total();
            assertEquals(0, s.errorCount());
            assertEquals(s.ios(), s.bpfHandled() + (s.ios() - s.bpfHandled()));
            assertEquals(0, s.inFlight());
        }
    }

    @Test
    void aProgramWithSubmitterAioCanBeSwappedOnALiveDevice() throws Exception {
        UblkProgram p = UblkProgram.load(dev.ublkctl.bpf.object.BpfObject.load(aioObj), OpsRef.id(40));
        Path f = EngineBasicTest.file(dir, "swap.img", 2 << 20);
        try (Engine e = Engine.emulated()) {
            Device d = e.add(DeviceConfig.of(new TargetConfig.Loop(f)).withQueues(2).withDepth(16));
            long viaBpf = 0;
            for (int i = 0; i < 12; i++) {
                if (i % 2 == 0) d.attach(p);
                else d.detach();
                VerifyResult v = Verifier.run(d, new VerifySpec(0, 0, 8192, 8, 100 + i), null);
                assertTrue(v.ok(), () -> "round with program " + d.program().isPresent() + ": " + v.firstMismatch());
                long now = d.stats().total().aioCompleted();
                if (i % 2 == 0) assertTrue(now > viaBpf, "the attached program served round " + i);
                viaBpf = now;
            }
            QueueStats s = d.stats().total();
            assertEquals(s.aioSubmitted(), s.aioCompleted());
            assertEquals(0, s.errorCount());
            assertEquals(0, s.inFlight());
        }
    }

    @Test
    void stopWithSubmitterAioInFlightLosesNoAcknowledgedWrite() throws Exception {
        Path f = EngineBasicTest.file(dir, "stopaio.img", 4096L * 4096);
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Loop(f)).withQueues(2).withDepth(8));
            d.attach(UblkProgram.load(dev.ublkctl.bpf.object.BpfObject.load(aioObj), OpsRef.id(40)));
            d.start();
            BlockDevice b = d.block();
            int blocks = 4096;
            List<CompletableFuture<Integer>> fs = new CopyOnWriteArrayList<>();
            MemorySegment[] bufs = new MemorySegment[blocks];
            CountDownLatch some = new CountDownLatch(200);
            Thread submitter = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < blocks; i++) {
                    bufs[i] = a.allocate(4096, 4096);
                    bufs[i].fill((byte) (i * 5 + 3));
                    bufs[i].set(ValueLayout.JAVA_INT, 0, i + 1);
                    CompletableFuture<Integer> w = b.write(i * 4096L, bufs[i]);
                    w.whenComplete((r, x) -> some.countDown());
                    fs.add(w);
                }
            });
            assertTrue(some.await(30, TimeUnit.SECONDS));
            d.stop();
            submitter.join(30_000);
            assertFalse(submitter.isAlive());
            byte[] disk = Files.readAllBytes(f);
            int ok = 0;
            for (int i = 0; i < fs.size(); i++) {
                try {
                    assertEquals(4096, fs.get(i).join());
                    ok++;
                    assertEquals(-1, MemorySegment.ofArray(disk).asSlice(i * 4096L, 4096).mismatch(bufs[i]), "acknowledged write " + i);
                } catch (CompletionException x) {
                    assertEquals(Errno.ENODEV, ((BlockIoException) x.getCause()).errno());
                }
            }
            assertTrue(ok >= 200);
            QueueStats s = d.stats().total();
            assertEquals(0, s.inFlight());
            assertEquals(s.aioSubmitted(), s.aioCompleted());
        }
    }
}
