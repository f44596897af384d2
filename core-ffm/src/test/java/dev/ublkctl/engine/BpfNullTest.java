package dev.ublkctl.engine;
import dev.ublkctl.engine.load.Bench;
import dev.ublkctl.engine.load.BenchResult;
import dev.ublkctl.engine.load.BenchSpec;
import dev.ublkctl.engine.load.Pattern;
import dev.ublkctl.engine.stats.QueueStats;

import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.sys.Errno;
import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.IoOp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BpfNullTest {
    /** The engine the programs run on: the interpreter here, the JIT in the JitBpfNullTest subclass. */
    EngineKind engine() { return EngineKind.INTERP; }

    UblkProgram load(java.nio.file.Path object, int opsId) throws java.io.IOException {
        return UblkProgram.load(dev.ublkctl.bpf.object.BpfObject.load(object), OpsRef.id(opsId), engine().create());
    }

    UblkProgram load(java.nio.file.Path object, String opsName) throws java.io.IOException {
        return UblkProgram.load(dev.ublkctl.bpf.object.BpfObject.load(object), OpsRef.named(opsName), engine().create());
    }

    static long u64(byte[] b, int off) { return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(off); }

    static byte[] le32(int... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) b.putInt(x);
        return b.array();
    }

    @Test
    void bpfOnlyHandlesEveryIo() throws Exception {
        UblkProgram p = load(BpfFixtures.bundled("null"), 0);
        assertEquals("null_ops", p.name());
        try (Engine e = Engine.emulated()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Null(1L << 30)).withQueues(2));
            d.attach(p);
            d.start();
            BenchResult r = Bench.run(d, BenchSpec.of(Pattern.RANDRW).withIoCount(4000).withNumJobs(2).withRuntime(Duration.ZERO), null);
            assertEquals(4000, r.ios());
            assertEquals(0, r.errors());
            assertEquals(4000, r.bpfHandled());
            assertEquals(0, r.redirected());
            QueueStats t = d.stats().total();
            assertEquals(4000, t.ios());
            assertTrue(t.progRuns() >= 4000 && t.progRunNanos() > 0);
            // the program's own per-queue counters agree
            VmMap qstats = p.map("qstats").orElseThrow();
            long queued = 0;
            for (int q = 0; q < 2; q++) queued += u64(qstats.lookup(le32(q)), 0);
            assertEquals(4000, queued);
            assertEquals(4000, u64(p.map(".bss").orElseThrow().lookup(le32(0)), 0), "null_total_ios");
        }
    }

    @Test
    void serverOnlyWithoutProgram() {
        try (Engine e = Engine.emulated()) {
            Device d = e.add(DeviceConfig.of(new TargetConfig.Null(1L << 30)));
            BenchResult r = Bench.run(d, BenchSpec.of(Pattern.RANDREAD).withIoCount(1000).withRuntime(Duration.ZERO), null);
            assertEquals(1000, r.ios());
            assertEquals(0, r.bpfHandled());
            assertEquals(0, d.stats().total().progRuns());
        }
    }

    @Test
    void mixedRedirectAndBounceBackWithEagain() throws Exception {
        UblkProgram p = load(BpfFixtures.bundled("null"), 2);
        // redirect tags with tag % 2 == 0 and all flushes
        p.map("null_cfg").orElseThrow().update(le32(0), le32(0, 1 << IoOp.FLUSH.code, 2, 0), VmMap.BPF_ANY);
        VmMap bounce = p.map("bounce").orElseThrow();
        AtomicInteger served = new AtomicInteger(), bounced = new AtomicInteger();
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Null(1L << 30)).withDepth(8));
            d.attach(p);
            d.start();
            // like the RFC's null server: bounce every other redirected I/O back to BPF with -EAGAIN
            d.setServerHook((q, tag, op, off, len, viaProgram) -> {
                assertTrue(viaProgram);
                if (op == IoOp.FLUSH || served.incrementAndGet() % 2 == 0) return 0;
                long key = ((long) d.id() << 32) | ((long) q << 16) | tag;
                try {
                    bounce.update(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(key).array(), le32(1), VmMap.BPF_ANY);
                } catch (Exception x) {
                    throw new IllegalStateException(x);
                }
                bounced.incrementAndGet();
                return -Errno.EAGAIN;
            });
            BlockDevice b = d.block();
            MemorySegment buf = a.allocate(4096, 4096);
            for (int i = 0; i < 400; i++) assertEquals(4096, b.read(i * 4096L, buf).join());
            assertEquals(0, b.flush().join());
            QueueStats s = d.stats().total();
            assertEquals(401, s.ios());
            assertEquals(0, s.errorCount());
            assertTrue(s.redirected() > 0 && s.bpfHandled() > 0, s.toString());
            assertTrue(bounced.get() > 0);
            assertEquals(0, bounce.count(), "every bounced I/O was finished by BPF, which deletes its key");
        }
    }

    @Test
    void splitWithContinue() throws Exception {
        UblkProgram p = load(BpfFixtures.bundled("null"), "null_split_ops");
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Null(1L << 30)).withMaxIoBytes(64 << 10));
            d.attach(p);
            d.start();
            MemorySegment buf = a.allocate(256 << 10, 4096);
            assertEquals(256 << 10, d.block().write(0, buf).join()); // 4 requests of 64 KiB
            QueueStats s = d.stats().total();
            assertEquals(4, s.ios());
            assertEquals(4 * 15, s.splitParts(), "a 64 KiB request in 4 KiB pieces: 15 CONTINUE, then QUEUED");
            assertEquals(4, s.bpfHandled());
        }
    }
}
