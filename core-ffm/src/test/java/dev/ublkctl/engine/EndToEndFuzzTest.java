package dev.ublkctl.engine;

import dev.ublkctl.engine.stats.QueueStats;

import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.StructOpsSpec;
import dev.ublkctl.bpf.testing.FuzzRounds;
import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.IoOp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The standing campaign, engine side: seeded, counted, replayable ({@code -Dfuzz.seed=S}; a fixed
 * seed by default, {@code -Dfuzz.seed=random} for a new one), deeper with {@code -Dfuzz.scale=N}.
 * <ul>
 * <li>random I/O sequences on loop and stripe devices, with and without their BPF programs, against
 *     a byte model of the disk: every read returns what the model says;</li>
 * <li>the fault_inject target: exactly the chosen I/Os fail, with the chosen errno, and nothing else;</li>
 * <li>mutated clang-built ublk objects loaded, attached to a live device and given I/O: each I/O
 *     completes (bytes or an errno), the device and the JVM survive, detach always works.</li>
 * </ul>
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class EndToEndFuzzTest {
    @TempDir Path dir;

    static long seed(String what) {
        long s = FuzzRounds.seed(0x5eed_e2e0L ^ what.hashCode());
        System.out.println("EndToEndFuzzTest " + what + ": seed " + s + " (replay with -Dfuzz.seed=" + s + ")");
        return s;
    }

    /** A completed I/O's result as the kernel gives it: bytes, or the negated errno. */
    static int result(CompletableFuture<Integer> f) throws Exception {
        try {
            return f.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof dev.ublkctl.ublk.BlockIoException b) return -b.errno();
            throw e;
        }
    }

    record Setup(String name, TargetConfig cfg, String prog, int opsId, EngineKind engine) {
        Setup(String name, TargetConfig cfg, String prog, int opsId) { this(name, cfg, prog, opsId, EngineKind.JIT); }
    }

    @Test
    void randomIoMatchesAModelOfTheDisk() throws Exception {
        long seed = seed("io model");
        Path l = EngineBasicTest.file(dir, "l.img", 2 << 20);
        List<Path> st = List.of(EngineBasicTest.file(dir, "s0", 1 << 20), EngineBasicTest.file(dir, "s1", 1 << 20),
                EngineBasicTest.file(dir, "s2", 1 << 20));
        List<Setup> setups = List.of(
                new Setup("loop", new TargetConfig.Loop(l), null, 0),
                new Setup("loop+loop.o", new TargetConfig.Loop(l), "loop", 16),
                new Setup("stripe", new TargetConfig.Stripe(st, 4096), null, 0),
                new Setup("stripe+stripe.o", new TargetConfig.Stripe(st, 8192), "stripe", 32),
                new Setup("loop+loop.o (interp)", new TargetConfig.Loop(l), "loop", 16, EngineKind.INTERP),
                new Setup("stripe+stripe.o (interp)", new TargetConfig.Stripe(st, 4096), "stripe", 32, EngineKind.INTERP));
        int opsPer = FuzzRounds.of(2000);
        int total = 0;
        for (Setup s : setups) {
            SplittableRandom rnd = new SplittableRandom(seed ^ s.name().hashCode());
            total += runModel(s, rnd, opsPer, seed);
        }
        System.out.println("EndToEndFuzzTest io model: " + total + " operations checked over " + setups.size() + " devices");
    }

    private int runModel(Setup s, SplittableRandom rnd, int ops, long seed) throws Exception {
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(s.cfg()).withQueues(2).withDepth(32).withMaxIoBytes(64 << 10));
            if (s.prog() != null)
                d.attach(UblkProgram.load(BpfObject.load(BpfFixtures.bundled(s.prog())), OpsRef.id(s.opsId()), s.engine().create()));
            d.start();
            BlockDevice b = d.block();
            int size = (int) d.size();
            // the model starts as the device does: whatever is on the files now (an earlier setup wrote them)
            byte[] model = new byte[size];
            MemorySegment all = a.allocate(size, 4096);
            assertEquals(size, b.read(0, all).join());
            MemorySegment.copy(all, ValueLayout.JAVA_BYTE, 0, model, 0, size);
            int done = 0;
            while (done < ops) {
                // a batch of requests on disjoint ranges, in flight together (several queues, several tags)
                int n = 1 + rnd.nextInt(8);
                List<int[]> ranges = new ArrayList<>();
                List<CompletableFuture<Integer>> fs = new ArrayList<>();
                List<Runnable> apply = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    int len = 512 * (1 + rnd.nextInt(rnd.nextInt(10) == 0 ? 256 : 16));
                    int off = 512 * rnd.nextInt((size - len) / 512 + 1);
                    if (ranges.stream().anyMatch(r -> off < r[0] + r[1] && r[0] < off + len)) continue;
                    ranges.add(new int[]{off, len});
                    int op = rnd.nextInt(20);
                    String what = s.name() + " op " + done + " seed " + seed;
                    if (op < 8) {             // write
                        MemorySegment buf = a.allocate(len, 4096);
                        byte[] data = new byte[len];
                        rnd.nextBytes(data);
                        MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, len);
                        fs.add(b.write(off, buf).thenApply(r -> { assertEquals(len, r, what + ": write"); return r; }));
                        apply.add(() -> System.arraycopy(data, 0, model, off, len));
                    } else if (op < 16) {     // read, checked against the model as it is before this batch
                        MemorySegment buf = a.allocate(len, 4096);
                        byte[] expect = java.util.Arrays.copyOfRange(model, off, off + len);
                        fs.add(b.read(off, buf).thenApply(r -> {
                            assertEquals(len, r, what + ": read");
                            long mm = buf.mismatch(MemorySegment.ofArray(expect));
                            assertEquals(-1, mm, () -> what + ": read at " + off + "+" + len + " differs from the model at byte " + mm);
                            return r;
                        }));
                    } else if (op < 18) {     // write-zeroes or discard: both read back as zeroes on these targets
                        fs.add((op == 16 ? b.writeZeroes(off, len) : b.discard(off, len))
                                .thenApply(r -> { assertTrue(r >= 0, what + ": zeroing gave " + r); return r; }));
                        apply.add(() -> java.util.Arrays.fill(model, off, off + len, (byte) 0));
                    } else {
                        fs.add(b.flush().thenApply(r -> { assertEquals(0, r, what + ": flush"); return r; }));
                    }
                    done++;
                }
                CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
                apply.forEach(Runnable::run);
            }
            // and the whole disk, once more, at the end
            assertEquals(size, b.read(0, all).join());
            assertEquals(-1, all.mismatch(MemorySegment.ofArray(model)), s.name() + ": final image differs, seed " + seed);
            QueueStats q = d.stats().total();
            assertEquals(0, q.errorCount(), s.name());
            if (s.prog() != null) assertTrue(q.bpfHandled() > 0, s.name() + ": the program served I/O");
            return done;
        }
    }

    @Test
    void faultInjectFailsExactlyTheChosenIos() throws Exception {
        long seed = seed("fault inject");
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long delay : new long[]{0, 200_000}) {
            int every = 2 + rnd.nextInt(9);
            int errno = new int[]{5, 28, 61, 110}[rnd.nextInt(4)];
            try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
                Device d = e.create(DeviceConfig.of(new TargetConfig.FaultInject(64 << 20, delay, every, errno)).withDepth(16));
                d.start();
                BlockDevice b = d.block();
                MemorySegment buf = a.allocate(4096, 4096);
                int n = FuzzRounds.of(delay == 0 ? 2000 : 300), failed = 0;
                for (int i = 1; i <= n; i++) {
                    IoOp op = IoOp.values()[rnd.nextInt(2)] ;
                    int r = result(op == IoOp.READ ? b.read(4096L * rnd.nextInt(1000), buf) : b.write(4096L * rnd.nextInt(1000), buf));
                    // one queue, one I/O at a time: the n-th I/O of the queue is the n-th submitted
                    if (i % every == 0) {
                        assertEquals(-errno, r, "I/O " + i + " (every " + every + ", seed " + seed + ")");
                        failed++;
                    } else {
                        assertEquals(4096, r, "I/O " + i + " (seed " + seed + ")");
                    }
                }
                // many in flight with a delay: they overlap, and the count still holds
                List<CompletableFuture<Integer>> fs = new ArrayList<>();
                for (int i = 0; i < 64; i++) fs.add(b.read(0, a.allocate(4096, 4096)));
                long errs = 0;
                for (var f : fs) if (result(f) < 0) errs++;
                int before = n % every, expect = (before + 64) / every;
                assertEquals(expect, errs, "failures among 64 concurrent I/Os");
                QueueStats q = d.stats().total();
                assertEquals(failed + errs, q.errorCount(), "the stats count the injected errors");
            }
        }
    }

    @Test
    void mutatedUblkProgramsServeOrFailCleanlyOnALiveDevice() throws Exception {
        long seed = seed("mutated programs");
        record Obj(String name, int opsId, byte[] bytes, long[] hot) {}
        List<Obj> objs = new ArrayList<>();
        for (var n : List.of(new Object[]{"null", 0}, new Object[]{"loop", 16}, new Object[]{"stripe", 32})) {
            byte[] bytes = Files.readAllBytes(BpfFixtures.bundled((String) n[0]));
            var elf = dev.ublkctl.bpf.elf.ElfFile.parse(bytes);
            List<Long> hot = new ArrayList<>();
            for (var s : elf.sections()) {
                if (s.isNobits() || s.size() == 0) continue;
                if (s.isExecutable() || s.name().equals(".maps") || s.name().startsWith(".struct_ops") || s.name().startsWith(".rodata")
                        || s.name().startsWith(".data") || s.type() == dev.ublkctl.bpf.elf.Section.SHT_REL) {
                    hot.add(s.offset());
                    hot.add(s.size());
                }
            }
            objs.add(new Obj((String) n[0], (int) n[1], bytes, hot.stream().mapToLong(Long::longValue).toArray()));
        }
        int rounds = FuzzRounds.of(1500), loaded = 0, refused = 0, ios = 0, failedIos = 0;
        Path f = EngineBasicTest.file(dir, "fz.img", 1 << 20);
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Loop(f)).withQueues(2).withDepth(8).withMaxIoBytes(64 << 10));
            d.start();
            BlockDevice b = d.block();
            MemorySegment buf = a.allocate(16384, 4096);
            for (int round = 0; round < rounds; round++) {
                SplittableRandom rnd = new SplittableRandom(seed + round * 0x9E3779B97F4A7C15L);
                Obj o = objs.get(rnd.nextInt(objs.size()));
                byte[] m = o.bytes().clone();
                for (int k = 1 + rnd.nextInt(4); k > 0; k--) {
                    int r = rnd.nextInt(o.hot().length / 2);
                    int at = (int) (o.hot()[2 * r] + rnd.nextLong(o.hot()[2 * r + 1]));
                    m[at] = rnd.nextBoolean() ? (byte) rnd.nextInt(256) : (byte) (m[at] ^ (1 << rnd.nextInt(8)));
                }
                String what = "round " + round + " (" + o.name() + ", seed " + seed + ")";
                if (Integer.getInteger("fuzz.dump", -1) == round) Files.write(Path.of("/tmp/fuzz-" + round + ".o"), m);
                UblkProgram p;
                try {
                    BpfObject obj = BpfObject.parse(m, "fuzz-" + o.name());
                    // every engine: even rounds on the JIT, odd ones on the interpreter
                    p = UblkProgram.load(obj, OpsRef.id(obj.structOps().stream().mapToInt(s -> (int) s.id().orElse(-1)).filter(i -> i >= 0)
                            .findFirst().orElse(o.opsId())), (round % 2 == 0 ? EngineKind.JIT : EngineKind.INTERP).create());
                } catch (RuntimeException refusedAtLoad) {
                    refused++;
                    assertNotNull(refusedAtLoad.getMessage(), what + ": " + refusedAtLoad);
                    continue;
                }
                try {
                    d.attach(p);
                } catch (RuntimeException refusedAtAttach) {
                    refused++;   // attach_dev said no, or the ops are incomplete: the device goes on without it
                    assertEquals(DeviceState.LIVE, d.state(), what);
                    continue;
                }
                loaded++;
                for (int i = 0; i < 3; i++) {
                    int len = 512 * (1 + rnd.nextInt(32));
                    long off = 512L * rnd.nextInt((int) ((d.size() - len) / 512));
                    CompletableFuture<Integer> fut = switch (rnd.nextInt(3)) {
                        case 0 -> b.read(off, buf.asSlice(0, len));
                        case 1 -> b.write(off, buf.asSlice(0, len));
                        default -> b.flush();
                    };
                    int r;
                    try {
                        r = result(fut);   // completes: bytes or an errno, never hangs
                    } catch (java.util.concurrent.TimeoutException t) {
                        throw new AssertionError(what + ": I/O " + i + " did not complete", t);
                    }
                    ios++;
                    if (r < 0) failedIos++;
                    else assertTrue(r <= len || r == 0, what + ": completed " + r + " of " + len);
                }
                d.detach();
                assertEquals(DeviceState.LIVE, d.state(), what + ": the device survives");
            }
            // after all that, plain I/O on the device still works
            assertEquals(4096, b.write(0, buf.asSlice(0, 4096)).get(10, TimeUnit.SECONDS));
            assertEquals(4096, b.read(0, buf.asSlice(0, 4096)).get(10, TimeUnit.SECONDS));
        }
        System.out.println("EndToEndFuzzTest mutated programs: " + rounds + " mutations, " + loaded + " attached and served "
                + ios + " I/Os (" + failedIos + " failed cleanly), " + refused + " refused at load or attach");
        assertTrue(loaded > 0 && refused > 0, "mutations should give both outcomes");
    }
}
