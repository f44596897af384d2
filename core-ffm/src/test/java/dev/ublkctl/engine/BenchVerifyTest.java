package dev.ublkctl.engine;
import dev.ublkctl.engine.load.Bench;
import dev.ublkctl.engine.load.BenchProgress;
import dev.ublkctl.engine.load.BenchResult;
import dev.ublkctl.engine.load.BenchSpec;
import dev.ublkctl.engine.load.Pattern;
import dev.ublkctl.engine.load.Verifier;
import dev.ublkctl.engine.load.VerifyResult;
import dev.ublkctl.engine.load.VerifySpec;
import dev.ublkctl.engine.stats.DeviceStats;

import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.IoOp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BenchVerifyTest {
    @TempDir Path dir;

    @Test
    void benchCountsEveryIo() {
        try (Engine e = Engine.emulated()) {
            Device d = e.add(DeviceConfig.of(new TargetConfig.Null(1L << 30)).withQueues(2).withDepth(64));
            List<BenchProgress> prog = new ArrayList<>();
            BenchResult r = Bench.run(d, BenchSpec.of(Pattern.RANDRW).withIoCount(20_000).withNumJobs(2).withIoDepth(32)
                    .withRuntime(Duration.ZERO), prog::add, Duration.ofMillis(50));
            assertEquals(20_000, r.ios());
            assertEquals(20_000, r.latency().count());
            assertEquals(r.ios() * 4096, r.readBytes() + r.writeBytes());
            assertTrue(r.readIos() > 5_000 && r.writeIos() > 5_000, r.summary());
            assertEquals(0, r.errors());
            assertFalse(prog.isEmpty());
            assertEquals(20_000, prog.getLast().ios());
            DeviceStats s = d.stats();
            assertEquals(r.readIos(), s.total().op(IoOp.READ).ios());
            assertEquals(r.writeIos(), s.total().op(IoOp.WRITE).ios());
            assertTrue(r.latency().p50() <= r.latency().p99() && r.latency().p99() <= r.latency().p999());
            System.out.println(r.summary());
        }
    }

    @Test
    void benchRunsForRuntimeAndSequentialWraps() {
        try (Engine e = Engine.emulated()) {
            Device d = e.add(DeviceConfig.of(new TargetConfig.Null(1 << 20)));
            BenchResult r = Bench.run(d, BenchSpec.of(Pattern.READ).withRuntime(Duration.ofMillis(300)).withBlockSize(65536), null);
            System.out.println(r.summary());
            assertTrue(r.ios() > 16, "sequential reads wrap around a 1 MiB device: " + r.ios());
            assertEquals(r.ios(), d.stats().total().op(IoOp.READ).ios());
        }
    }

    @Test
    void verifyPassesThenFindsTheExactCorruptByte() throws Exception {
        Path f = dir.resolve("v.img");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) { raf.setLength(4 << 20); }
        try (Engine e = Engine.emulated()) {
            Device d = e.add(DeviceConfig.of(new TargetConfig.Loop(f)).withQueues(2));
            VerifySpec spec = new VerifySpec(0, 0, 8192, 8, 42);
            VerifyResult ok = Verifier.run(d, spec, null);
            assertTrue(ok.ok(), () -> ok.firstMismatch().toString());
            assertEquals(512, ok.blocks());
            // flip one byte behind the device's back, and make another block stale
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.seek(3 * 8192 + 1000);
                int old = raf.read();
                raf.seek(3 * 8192 + 1000);
                raf.write(old ^ 0x10);
            }
            VerifyResult bad = Verifier.run(d, spec.withReadOnly(true), null);
            VerifyResult.Mismatch m = bad.firstMismatch().orElseThrow();
            assertEquals(3 * 8192, m.blockOffset());
            assertEquals(1000, m.byteInBlock());
            assertEquals(3 * 8192 + 1000, m.deviceOffset());
            assertEquals(m.expected() ^ 0x10, m.actual());
            assertTrue(m.reason().contains("CRC32C"), m.reason());
            // a run with another generation sees stale data at the very first block
            VerifyResult stale = Verifier.run(d, new VerifySpec(0, 0, 8192, 8, 43, true), null);
            assertEquals(0, stale.firstMismatch().orElseThrow().blockOffset());
            assertTrue(stale.firstMismatch().get().reason().contains("generation 42"));
        }
    }

    @Test
    void stoppingTheDeviceEndsABenchWithoutHanging() throws Exception {
        java.nio.file.Path f = dir.resolve("b.img");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) { raf.setLength(8 << 20); }
        try (Engine e = Engine.emulated()) {
            Device d = e.add(DeviceConfig.of(new TargetConfig.Loop(f)).withQueues(2).withDepth(16));
            java.util.concurrent.atomic.AtomicReference<BenchResult> res = new java.util.concurrent.atomic.AtomicReference<>();
            Thread t = Thread.ofPlatform().start(() -> res.set(Bench.run(d,
                    BenchSpec.of(Pattern.RANDWRITE).withNumJobs(2).withIoDepth(16).withRuntime(Duration.ofSeconds(30)), null)));
            long until = System.nanoTime() + 10_000_000_000L;
            while (d.stats().total().ios() < 500 && System.nanoTime() < until) Thread.sleep(5);
            d.stop();
            t.join(20_000);
            assertFalse(t.isAlive(), "bench must end when its device stops");
            BenchResult r = res.get();
            assertNotNull(r);
            assertTrue(r.errors() > 0, "I/O refused or aborted by the stop counts as errors");
            assertTrue(r.writeIos() >= 500);
        }
    }
}
