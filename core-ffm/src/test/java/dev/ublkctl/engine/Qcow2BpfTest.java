package dev.ublkctl.engine;

import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.engine.stats.QueueStats;
import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.target.qcow2.QemuTools;
import dev.ublkctl.ublk.BlockDevice;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A qcow2 device on the emulated backend with and without the qcow2 program: what it serves
 * equals what QEMU reads from the image, the mapping warms (misses go to the server, which maps
 * the clusters; hits are served by bpf aio), and a cluster the server remaps is never served
 * from a stale entry.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Qcow2BpfTest {
    @TempDir Path dir;

    @BeforeAll
    static void tools() { QemuTools.assumeInstalled(); }

    static UblkProgram qcow2Program(EngineKind k) throws Exception {
        return UblkProgram.load(dev.ublkctl.bpf.object.BpfObject.load(BpfFixtures.bundled("qcow2")), OpsRef.id(48), k.create());
    }

    static long counter(UblkProgram p, int field) {
        VmMap m = p.map("qcow2_stats").orElseThrow();
        long sum = 0;
        for (int q = 0; q < 4; q++) {
            byte[] v = m.lookup(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(q).array());
            if (v != null) sum += ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong(field * 8);
        }
        return sum;
    }

    static byte[] readAll(BlockDevice b, Arena a, int piece) {
        byte[] out = new byte[(int) b.size()];
        MemorySegment buf = a.allocate(piece, 4096);
        for (int off = 0; off < out.length; off += piece) {
            assertEquals(piece, b.read(off, buf).join());
            MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, out, off, piece);
        }
        return out;
    }

    Path image() {
        Path img = QemuTools.create(dir.resolve("d.qcow2"), "cluster_size=65536", 4 << 20);
        QemuTools.io(img, "write -P 0x21 0 1m", "write -P 0x22 1m 1m", "write -P 0x23 3m 512k");
        return img;
    }

    @Test
    void mapWarmsAndReadsMatchQemu() throws Exception {
        Path img = image();
        byte[] want = QemuTools.raw(img);
        UblkProgram p = qcow2Program(EngineKind.JIT);
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Qcow2(img)).withQueues(2).withMaxIoBytes(256 << 10));
            d.attach(p);
            d.start();
            BlockDevice b = d.block();
            assertArrayEquals(want, readAll(b, a, 128 << 10), "cold: served by the target");
            QueueStats cold = d.stats().total();
            assertTrue(cold.redirected() > 0, "cold reads redirect");
            long hitsCold = counter(p, 0);
            assertEquals(40, p.map("qcow2_map").orElseThrow().count(), "2.5 MiB of 64 KiB data clusters mapped");
            assertArrayEquals(want, readAll(b, a, 128 << 10), "warm: served by BPF where mapped");
            QueueStats warm = d.stats().total();
            long redirectsWarm = warm.redirected() - cold.redirected(), iosWarm = warm.ios() - cold.ios();
            assertTrue(counter(p, 0) - hitsCold >= 40, "every mapped cluster hit");
            // only I/Os over unallocated clusters (2 MiB..3 MiB, 3.5 MiB..4 MiB) still redirect
            assertEquals(12, redirectsWarm, "warm redirects");
            assertTrue(redirectsWarm < iosWarm / 2, "the redirect ratio fell: " + redirectsWarm + " of " + iosWarm);
            assertTrue(warm.aioSubmitted() > 0 && warm.aioSubmitted() == warm.aioCompleted());
            assertEquals(0, warm.errorCount());
        }
    }

    /** Rewrites and remaps clusters under the program: every read sees the latest data. */
    @Test
    void neverServesAStaleMapping() throws Exception {
        Path img = image();
        byte[] expect = QemuTools.raw(img);
        UblkProgram p = qcow2Program(EngineKind.INTERP);
        Random r = new Random(11);
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Qcow2(img)).withQueues(2).withMaxIoBytes(256 << 10));
            d.attach(p);
            d.start();
            BlockDevice b = d.block();
            readAll(b, a, 64 << 10);   // warm
            MemorySegment buf = a.allocate(256 << 10, 4096);
            for (int round = 0; round < 60; round++) {
                int cl = r.nextInt(64);
                long off = (long) cl << 16;
                switch (round % 4) {
                    case 0 -> {   // discard a whole cluster: its old host data must never come back
                        assertEquals(0, b.discard(off, 65536).join() < 0 ? -1 : 0);
                        Arrays.fill(expect, (int) off, (int) off + 65536, (byte) 0);
                    }
                    case 1 -> {   // write-zeroes across two clusters, partly
                        long o = off + 4096 * r.nextInt(16);
                        int n = 4096 * (1 + r.nextInt(20));
                        if (o + n > expect.length) continue;
                        b.writeZeroes(o, n).join();
                        Arrays.fill(expect, (int) o, (int) (o + n), (byte) 0);
                    }
                    default -> {  // rewrite: a hit writes in place, a miss allocates (remaps)
                        long o = off + 512 * r.nextInt(128);
                        int n = 512 * (1 + r.nextInt(256));
                        if (o + n > expect.length) continue;
                        MemorySegment w = buf.asSlice(0, n);
                        byte[] data = new byte[n];
                        r.nextBytes(data);
                        MemorySegment.copy(data, 0, w, ValueLayout.JAVA_BYTE, 0, n);
                        assertEquals(n, b.write(o, w).join());
                        System.arraycopy(data, 0, expect, (int) o, n);
                    }
                }
                // read the touched area back twice (the first read may map it, the second hits)
                for (int k = 0; k < 2; k++) {
                    long o = Math.max(0, off - 65536);
                    int n = (int) Math.min(3 * 65536, expect.length - o);
                    MemorySegment back = a.allocate(n, 4096);
                    assertEquals(n, b.read(o, back).join());
                    assertArrayEquals(Arrays.copyOfRange(expect, (int) o, (int) o + n), back.toArray(ValueLayout.JAVA_BYTE),
                            "round " + round + " read " + k + " at " + o);
                }
            }
            assertTrue(counter(p, 0) > 0 && counter(p, 1) > 0, "both hits and misses happened");
            assertEquals(0, b.flush().join());
            assertArrayEquals(expect, readAll(b, a, 256 << 10));
            assertEquals(0, d.stats().total().errorCount());
        }
        QemuTools.Run check = QemuTools.run("qemu-img", "check", img.toString());
        assertEquals(0, check.exit(), check.output());
        Path want = dir.resolve("want.raw");
        java.nio.file.Files.write(want, expect);
        QemuTools.Run cmp = QemuTools.run("qemu-img", "compare", "-f", "qcow2", "-F", "raw", img.toString(), want.toString());
        assertEquals(0, cmp.exit(), cmp.output());
    }

    /** Without a program the same device is served by the Java target alone. */
    @Test
    void withoutProgramTheTargetServesEverything() throws Exception {
        Path img = image();
        byte[] want = QemuTools.raw(img);
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Qcow2(img)).withQueues(1));
            d.start();
            assertEquals(4 << 20, d.size());
            assertArrayEquals(want, readAll(d.block(), a, 64 << 10));
        }
    }
}
