package dev.ublkctl.engine;

import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.engine.stats.QueueStats;
import dev.ublkctl.target.FileTarget;
import dev.ublkctl.target.StripeLayout;
import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.BlockDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The engine fills kublk's maps as kublk does, and the stripe server side follows the program's layout. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KublkConventionsTest {
    @TempDir Path dir;

    private static UblkProgram load(String name, int id) throws Exception {
        return UblkProgram.load(BpfObject.load(BpfFixtures.bundled("kublk/" + name)), OpsRef.id(id), EngineKind.INTERP.create());
    }

    private static byte[] le32(int v) { return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array(); }

    @Test
    void loopFdMapHoldsTheDescriptorTheAioKfuncsAccept() throws Exception {
        UblkProgram p = load("kublk_loop", 16);
        Path f = EngineBasicTest.file(dir, "loop.img", 1 << 20);
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Loop(f)).withQueues(1));
            d.attach(p);
            byte[] fd = p.map("fd_map").orElseThrow().lookup(le32(d.id()));
            assertNotNull(fd, "fd_map[dev_id] is set before the device starts");
            assertEquals(d.target().fds().getFirst(), ByteBuffer.wrap(fd).order(ByteOrder.LITTLE_ENDIAN).getInt());
            d.start();
            MemorySegment m = EngineBasicTest.random(a, 64 << 10, 7);
            assertEquals(64 << 10, d.block().write(4096, m).join());
            byte[] disk = Files.readAllBytes(f);
            assertEquals(-1, MemorySegment.ofArray(disk).asSlice(4096, 64 << 10).mismatch(m), "written by bpf aio on that descriptor");
            assertEquals(d.stats().total().ios(), d.stats().total().bpfHandled());
            d.detach();
            assertNull(p.map("fd_map").orElseThrow().lookup(le32(d.id())), "detach takes the entry away");
        }
    }

    /**
     * BPF writes, the server reads (the program's "mix" map sends reads to it): the bytes match only
     * because the server uses kublk's layout; the control puts the server on ublkctl's RAID 0 layout
     * and reads other bytes.
     */
    @Test
    void mixedStripeIoReadsBackWhatItWroteOnKublksLayout() throws Exception {
        for (int files : new int[]{2, 4}) {
            UblkProgram p = load("kublk_stripe", 32);
            int chunk = 4096;
            List<Path> paths = new ArrayList<>();
            for (int i = 0; i < files; i++) paths.add(EngineBasicTest.file(dir, files + "-" + i, 256 << 10));
            try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
                Device d = e.create(DeviceConfig.of(new TargetConfig.Stripe(paths, chunk)).withQueues(2));
                d.attach(p);
                FileTarget ft = (FileTarget) d.target();
                assertEquals(StripeLayout.KUBLK, ft.layout(), "stripe_map makes the server use kublk's layout");
                d.start();
                BlockDevice b = d.block();
                int len = 8 * chunk * files;
                MemorySegment data = EngineBasicTest.random(a, len, files);
                assertEquals(len, b.write(chunk, data).join());      // unaligned to a unit: every file, split pieces
                assertEquals(0, b.flush().join(), "a flush syncs every file through bpf aio");
                // where kublk's program put it: file (c % n) at ((c / n) + (c % n)) * chunk, computed with its masks
                byte[][] disk = new byte[files][];
                for (int i = 0; i < files; i++) disk[i] = Files.readAllBytes(paths.get(i));
                for (long pos = chunk; pos < chunk + len; pos += 512) {
                    long unit = pos & ~((long) files * chunk - 1), start = pos & ~((long) chunk - 1);
                    int idx = (int) ((start - unit) / chunk);
                    long off = unit / files + (long) idx * chunk + (pos - start);
                    assertEquals(data.get(java.lang.foreign.ValueLayout.JAVA_BYTE, pos - chunk), disk[idx][(int) off], "byte " + pos);
                }
                p.map("mix").orElseThrow().update(le32(0), le32(1 << 0), VmMap.BPF_ANY);   // reads to the server
                MemorySegment back = a.allocate(len, 4096);
                assertEquals(len, b.read(chunk, back).join());
                assertEquals(-1, back.mismatch(data), "server reads what BPF wrote (" + files + " files)");
                QueueStats s = d.stats().total();
                assertTrue(s.redirected() >= 1, "the read went to the server");
                assertEquals(0, s.errorCount());
                assertEquals(s.aioSubmitted(), s.aioCompleted());

                ft.layout(StripeLayout.RAID0);   // control: the other layout reads other bytes
                MemorySegment wrong = a.allocate(len, 4096);
                assertEquals(len, b.read(chunk, wrong).join());
                assertNotEquals(-1, wrong.mismatch(data), "ublkctl's layout does not find kublk's data");
                d.detach();
                assertEquals(StripeLayout.RAID0, ft.layout());
            }
        }
    }

    @Test
    void kublksLayoutIsRefusedWhereItIsUndefined() throws Exception {
        UblkProgram p = load("kublk_stripe", 32);
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < 3; i++) paths.add(EngineBasicTest.file(dir, "three-" + i, 64 << 10));
        try (Engine e = Engine.emulated()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Stripe(paths, 4096)));
            IllegalStateException x = assertThrows(IllegalStateException.class, () -> d.attach(p));
            assertTrue(x.getMessage().contains("1, 2 or 4 files, not 3"), x.getMessage());
            assertTrue(d.program().isEmpty());
        }
    }

    @Test
    void bounceHookMarksIoMapAndTheProgramCompletesTheSecondTime() throws Exception {
        UblkProgram p = load("kublk_null", 2);
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Null(16 << 20)).withQueues(1).withDepth(8));
            d.attach(p);
            d.setServerHook(new BounceHook(d, BounceHook.KUBLK_EVERY));
            d.start();
            BlockDevice b = d.block();
            MemorySegment buf = a.allocate(4096, 4096);
            for (int i = 0; i < 64; i++) assertEquals(4096, b.read(4096L * i, buf).join());
            QueueStats s = d.stats().total();
            assertEquals(64, s.ios());
            assertEquals(0, s.errorCount());
            // one I/O at a time: tag 0 (even) every time, so every I/O is redirected; 3 of 4 come back
            assertEquals(64, s.redirected());
            assertEquals(48, s.bpfHandled(), "bounced I/Os completed by the program");
            assertEquals(64 + 48, s.progRuns(), "a bounced I/O runs the program twice");
            assertEquals(0, p.map("io_map").orElseThrow().count(), "kublk_null clears the mark when it completes");
        }
    }
}
