package dev.ublkctl.engine;

import dev.ublkctl.engine.stats.QueueStats;
import dev.ublkctl.engine.load.Verifier;
import dev.ublkctl.engine.load.VerifyResult;
import dev.ublkctl.engine.load.VerifySpec;

import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.IoOp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 90, unit = TimeUnit.SECONDS)
class BpfFileTest {
    /** The engine the programs run on: the interpreter here, the JIT in the JitBpfFileTest subclass. */
    EngineKind engine() { return EngineKind.INTERP; }

    UblkProgram load(java.nio.file.Path object, int opsId) throws java.io.IOException {
        return UblkProgram.load(dev.ublkctl.bpf.object.BpfObject.load(object), OpsRef.id(opsId), engine().create());
    }

    UblkProgram load(java.nio.file.Path object, String opsName) throws java.io.IOException {
        return UblkProgram.load(dev.ublkctl.bpf.object.BpfObject.load(object), OpsRef.named(opsName), engine().create());
    }

    @TempDir Path dir;

    @Test
    void loopThroughBpfAioWritesAndReadsBack() throws Exception {
        UblkProgram p = load(BpfFixtures.bundled("loop"), 16);
        assertEquals("loop_aio_ops", p.aioOpsName().orElseThrow());
        Path f = EngineBasicTest.file(dir, "loop.img", 4 << 20);
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Loop(f)).withQueues(2).withMaxIoBytes(128 << 10));
            d.attach(p);
            d.start();
            VerifyResult v = Verifier.run(d, new VerifySpec(0, 0, 16384, 8, 5), null);
            assertTrue(v.ok(), () -> v.firstMismatch().toString());
            BlockDevice b = d.block();
            MemorySegment data = EngineBasicTest.random(a, 512 << 10, 3); // 4 requests
            assertEquals(512 << 10, b.write(8192, data).join());
            assertEquals(0, b.flush().join());
            byte[] disk = Files.readAllBytes(f);
            assertEquals(-1, MemorySegment.ofArray(disk).asSlice(8192, 512 << 10).mismatch(data));
            b.writeZeroes(8192, 4096).join();
            b.discard(8192 + 4096, 4096).join();
            MemorySegment back = a.allocate(8192, 4096);
            b.read(8192, back).join();
            for (int i = 0; i < 8192; i++) assertEquals(0, back.get(ValueLayout.JAVA_BYTE, i), "byte " + i);
            QueueStats s = d.stats().total();
            assertEquals(0, s.redirected());
            assertEquals(0, s.errorCount());
            assertEquals(s.ios(), s.bpfHandled());
            assertTrue(s.aioSubmitted() > 0);
            assertEquals(s.aioSubmitted(), s.aioCompleted());
            assertEquals(s.ios(), s.aioSubmitted(), "loop: one aio per I/O");
        }
    }

    /** Mixed mode: the "mix" map sends writes to the Java target; reads and flushes stay in BPF aio, same files. */
    @Test
    void loopAndStripeMixedModeShareTheFilesWithTheServer() throws Exception {
        byte[] key = {0, 0, 0, 0}, writesToServer = {1 << 1, 0, 0, 0, 0, 0, 0, 0};   // mix {redirect_ops = 1 << WRITE}
        for (String target : List.of("loop", "stripe")) {
            UblkProgram p = load(BpfFixtures.bundled(target), target.equals("loop") ? 16 : 32);
            p.map("mix").orElseThrow().update(key, writesToServer, dev.ublkctl.bpf.maps.VmMap.BPF_ANY);
            TargetConfig cfg = target.equals("loop") ? new TargetConfig.Loop(EngineBasicTest.file(dir, "mix.img", 2 << 20))
                    : new TargetConfig.Stripe(List.of(EngineBasicTest.file(dir, "mix0", 1 << 20), EngineBasicTest.file(dir, "mix1", 1 << 20)), 4096);
            try (Engine e = Engine.emulated()) {
                Device d = e.create(DeviceConfig.of(cfg).withQueues(2).withMaxIoBytes(128 << 10));
                d.attach(p);
                d.start();
                VerifyResult v = Verifier.run(d, new VerifySpec(0, 0, 16384, 8, 5), null);
                assertTrue(v.ok(), () -> target + ": " + v.firstMismatch());
                QueueStats s = d.stats().total();
                assertEquals(0, s.errorCount(), target);
                assertEquals(s.op(IoOp.WRITE).ios(), s.redirected(), target + ": every write went to the server");
                assertEquals(s.ios() - s.redirected(), s.bpfHandled(), target + ": the rest in BPF");
                assertTrue(s.bpfHandled() > 0 && s.aioSubmitted() > 0, target + ": reads through bpf aio");
                assertEquals(s.aioSubmitted(), s.aioCompleted(), target);
            }
        }
    }

    @Test
    void stripeThroughBpfAioMatchesStraightLayout() throws Exception {
        UblkProgram prog = load(BpfFixtures.bundled("stripe"), 32);
        for (int files : new int[]{1, 2, 4}) {
            for (int chunk : new int[]{4096, 512 << 10}) {
                List<Path> paths = new ArrayList<>();
                for (int i = 0; i < files; i++) paths.add(EngineBasicTest.file(dir, "b" + files + "-" + chunk + "-" + i, 1L << 20));
                try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
                    Device d = e.create(DeviceConfig.of(new TargetConfig.Stripe(paths, chunk)).withQueues(2));
                    d.attach(prog);
                    d.start();
                    BlockDevice b = d.block();
                    long size = d.size();
                    byte[] expect = new byte[(int) size];
                    long[] offs = {chunk - 512, 2L * chunk - 4096, 0, size - 2L * chunk - 1024};
                    int[] lens = {1024, chunk + 8192, 4096, 2 * chunk + 1024};
                    for (int i = 0; i < offs.length; i++) {
                        if (offs[i] < 0 || offs[i] + lens[i] > size) continue;
                        MemorySegment m = EngineBasicTest.random(a, lens[i], 100 + i);
                        assertEquals(lens[i], b.write(offs[i], m).join());
                        MemorySegment.copy(m, ValueLayout.JAVA_BYTE, 0, expect, (int) offs[i], lens[i]);
                    }
                    assertEquals(0, b.flush().join());
                    byte[][] disk = new byte[files][];
                    for (int i = 0; i < files; i++) disk[i] = Files.readAllBytes(paths.get(i));
                    for (long off = 0; off < size; off += 256) {
                        long[] w = EngineBasicTest.where(off, files, chunk);
                        assertEquals(expect[(int) off], disk[(int) w[0]][(int) w[1]], "files " + files + " chunk " + chunk + " byte " + off);
                    }
                    MemorySegment all = a.allocate(size, 4096);
                    assertEquals((int) size, b.read(0, all).join());
                    assertEquals(-1, all.mismatch(MemorySegment.ofArray(expect)));
                    QueueStats s = d.stats().total();
                    assertEquals(0, s.errorCount());
                    assertEquals(0, s.redirected());
                    assertEquals(s.ios(), s.bpfHandled());
                    assertEquals(s.aioSubmitted(), s.aioCompleted());
                    if (chunk == 4096) assertTrue(s.splitParts() > s.ios(), "I/Os over several chunks split with CONTINUE");
                    assertEquals(0, prog.map("stripe_inflight").orElseThrow().count(), "no per-I/O record left behind");
                }
            }
        }
    }

    @Test
    void attachDevRefusingTheDeviceFailsStart() throws Exception {
        UblkProgram p = load(BpfFixtures.bundled("loop"), 16);
        Path f = EngineBasicTest.file(dir, "x.img", 1 << 20);
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Stripe(List.of(f), 4096)));
            // attach_dev fails: no loop_files entry for a stripe device
            IllegalStateException x = assertThrows(IllegalStateException.class, () -> { d.attach(p); d.start(); });
            assertTrue(x.getMessage().contains("attach_dev"), x.getMessage());
        }
    }
}
