package dev.ublkctl.engine;

import dev.ublkctl.engine.stats.QueueStats;
import dev.ublkctl.engine.load.Bench;
import dev.ublkctl.engine.load.BenchResult;
import dev.ublkctl.engine.load.BenchSpec;
import dev.ublkctl.engine.load.Pattern;
import dev.ublkctl.engine.load.Verifier;
import dev.ublkctl.engine.load.VerifyResult;
import dev.ublkctl.engine.load.VerifySpec;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.BlockIoException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Devices backed by other devices of the same engine ({@code -f ublk:N}), dispatched in process. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StackingTest {
    @TempDir Path dir;

    private Device loopWithBpf(Engine e, Path f) throws Exception {
        Device d = e.create(DeviceConfig.of(new TargetConfig.Loop(f)).withQueues(2).withMaxIoBytes(128 << 10));
        d.attach(UblkProgram.load(dev.ublkctl.bpf.object.BpfObject.load(BpfFixtures.bundled("loop")), OpsRef.id(16)));
        d.start();
        return d;
    }

    @Test
    void stripeOverTwoLoopDevicesEachWithItsProgramVerifies() throws Exception {
        Path f0 = EngineBasicTest.file(dir, "l0.img", 4 << 20), f1 = EngineBasicTest.file(dir, "l1.img", 4 << 20);
        try (Engine e = Engine.emulated()) {
            Device l0 = loopWithBpf(e, f0), l1 = loopWithBpf(e, f1);
            Device s = e.add(DeviceConfig.of(new TargetConfig.Stripe(List.of(Path.of("ublk:" + l0.id()), Path.of("ublk:" + l1.id())), 4096))
                    .withQueues(2).withMaxIoBytes(128 << 10));
            assertEquals(8 << 20, s.size());
            assertEquals(dev.ublkctl.target.TargetType.STRIPE, s.targetType());
            VerifyResult v = Verifier.run(s, new VerifySpec(0, 0, 16384, 8, 11), null);
            assertTrue(v.ok(), () -> v.firstMismatch().toString());
            BenchResult r = Bench.run(s, BenchSpec.of(Pattern.RANDRW).withIoCount(4000).withNumJobs(2).withRuntime(Duration.ZERO), null);
            assertEquals(0, r.errors());
            VerifyResult again = Verifier.run(s, new VerifySpec(0, 0, 16384, 8, 11).withReadOnly(true), null);
            assertFalse(again.ok(), "the bench's writes overwrote some verify blocks");
            VerifyResult v2 = Verifier.run(s, new VerifySpec(0, 0, 16384, 8, 12), null);
            assertTrue(v2.ok(), () -> v2.firstMismatch().toString());
            // each layer did its part: the lower devices served every piece through their BPF programs
            for (Device l : List.of(l0, l1)) {
                QueueStats q = l.stats().total();
                assertTrue(q.ios() > 1000, "lower device " + l.id() + " ios " + q.ios());
                assertEquals(q.ios(), q.bpfHandled());
                assertEquals(q.aioSubmitted(), q.aioCompleted());
                assertEquals(0, q.errorCount());
            }
            // stripe placement: chunk c of the upper device is chunk c/2 of lower device c%2, as on files
            byte[] d0 = Files.readAllBytes(f0), d1 = Files.readAllBytes(f1);
            try (Arena a = Arena.ofShared()) {
                MemorySegment m = a.allocate(3 * 4096, 4096);
                assertEquals(3 * 4096, s.block().read(0, m).join());
                assertEquals(-1, m.asSlice(0, 4096).mismatch(MemorySegment.ofArray(d0).asSlice(0, 4096)));
                assertEquals(-1, m.asSlice(4096, 4096).mismatch(MemorySegment.ofArray(d1).asSlice(0, 4096)));
                assertEquals(-1, m.asSlice(8192, 4096).mismatch(MemorySegment.ofArray(d0).asSlice(4096, 4096)));
            }
        }
    }

    @Test
    void loopOverLoopOverFile() throws Exception {
        Path f = EngineBasicTest.file(dir, "base.img", 2 << 20);
        try (Engine e = Engine.emulated()) {
            Device base = loopWithBpf(e, f);
            Device mid = e.add(DeviceConfig.of(new TargetConfig.Loop(Path.of("ublk:" + base.id()))));
            Device top = e.add(DeviceConfig.of(new TargetConfig.Loop(Path.of("ublk:" + mid.id()))).withQueues(2));
            VerifyResult v = Verifier.run(top, new VerifySpec(0, 0, 8192, 16, 3), null);
            assertTrue(v.ok(), () -> v.firstMismatch().toString());
            VerifyResult through = Verifier.run(base, new VerifySpec(0, 0, 8192, 16, 3).withReadOnly(true), null);
            assertTrue(through.ok(), "what the top device wrote is on the base device: " + through.firstMismatch());
        }
    }

    @Test
    void aLowerDeviceInUseCannotBeDeletedAndStoppingItFailsUpperIoWithEnodev() throws Exception {
        Path f = EngineBasicTest.file(dir, "low.img", 2 << 20);
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device low = e.add(DeviceConfig.of(new TargetConfig.Loop(f)));
            Device up = e.add(DeviceConfig.of(new TargetConfig.Loop(Path.of("ublk:" + low.id()))));
            IllegalStateException x = assertThrows(IllegalStateException.class, low::delete);
            assertTrue(x.getMessage().contains("backs device " + up.id()), x.getMessage());
            assertEquals(DeviceState.LIVE, low.state(), "refused: still live");
            MemorySegment buf = a.allocate(4096, 4096);
            assertEquals(4096, up.block().write(0, buf).join());
            low.stop();
            CompletionException c = assertThrows(CompletionException.class, () -> up.block().read(0, buf).join());
            assertEquals(Errno.ENODEV, ((BlockIoException) c.getCause()).errno(), c.getCause().getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> e.create(DeviceConfig.of(new TargetConfig.Loop(Path.of("ublk:" + low.id())))), "no stacking on a stopped device");
            assertThrows(IllegalArgumentException.class,
                    () -> e.create(DeviceConfig.of(new TargetConfig.Stripe(List.of(Path.of("ublk:" + up.id()), f)))), "files and devices mixed");
            up.delete();
            low.delete();
            assertTrue(e.devices().isEmpty());
        }
    }

    @Test
    void engineCloseDeletesUpperDevicesFirst() throws Exception {
        Path f = EngineBasicTest.file(dir, "c.img", 1 << 20);
        Engine e = Engine.emulated();
        Device low = e.add(DeviceConfig.of(new TargetConfig.Loop(f)).withId(0));
        Device up = e.add(DeviceConfig.of(new TargetConfig.Loop(Path.of("ublk:0"))).withId(5));
        BlockDevice b = up.block();
        assertEquals(1 << 20, b.size());
        e.close();
        assertEquals(DeviceState.DELETED, low.state());
        assertEquals(DeviceState.DELETED, up.state());
    }
}
