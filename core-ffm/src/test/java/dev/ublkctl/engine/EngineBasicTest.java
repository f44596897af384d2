package dev.ublkctl.engine;
import dev.ublkctl.engine.stats.DeviceStats;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.BlockIoException;
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
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EngineBasicTest {
    @TempDir Path dir;

    static Path file(Path dir, String name, long size) throws Exception {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) { f.setLength(size); }
        return p;
    }

    static MemorySegment random(Arena a, int len, long seed) {
        byte[] b = new byte[len];
        new Random(seed).nextBytes(b);
        return a.allocate(len, 4096).copyFrom(MemorySegment.ofArray(b));
    }

    @Test
    void nullDeviceLifecycleAndStats() {
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Null(1 << 30)).withQueues(2).withDepth(16));
            assertEquals(DeviceState.CREATED, d.state());
            assertEquals(0, d.id());
            d.start();
            assertEquals(DeviceState.LIVE, d.state());
            BlockDevice b = d.block();
            MemorySegment buf = a.allocate(8192, 4096);
            assertEquals(8192, b.write(4096, buf).join());
            assertEquals(8192, b.read(0, buf).join());
            assertEquals(0, b.flush().join());
            assertEquals(1 << 20, b.discard(0, 1 << 20).join());
            DeviceStats s = d.stats();
            assertEquals(1, s.total().op(IoOp.WRITE).ios());
            assertEquals(8192, s.total().op(IoOp.READ).bytes());
            assertEquals(4, s.total().ios());
            assertEquals(4, s.total().latency().count());
            assertEquals(0, s.total().inFlight());
            d.stop();
            assertEquals(DeviceState.STOPPED, d.state());
            CompletionException ex = assertThrows(CompletionException.class, () -> b.read(0, buf).join());
            assertEquals(Errno.ENODEV, ((BlockIoException) ex.getCause()).errno());
            d.delete();
            assertEquals(DeviceState.DELETED, d.state());
            assertTrue(e.devices().isEmpty());
        }
    }

    @Test
    void badInputsAreRefused() {
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.add(DeviceConfig.of(new TargetConfig.Null(1 << 20)).withLogicalBlockSize(4096));
            BlockDevice b = d.block();
            MemorySegment buf = a.allocate(8192, 4096);
            var ex = assertThrows(CompletionException.class, () -> b.read(512, buf.asSlice(0, 4096)).join());
            assertEquals(Errno.EINVAL, ((BlockIoException) ex.getCause()).errno());
            ex = assertThrows(CompletionException.class, () -> b.read((1 << 20) - 4096, buf).join());
            assertEquals(Errno.EIO, ((BlockIoException) ex.getCause()).errno());
            assertEquals(-Errno.EINVAL, assertDoesNotThrow(() -> b.submit(0, IoOp.WRITE, 0, 100, buf, (c, r) -> fail(), 0, true)));
            assertThrows(IllegalArgumentException.class, () -> DeviceConfig.of(new TargetConfig.Null()).withDepth(0));
            assertThrows(IllegalArgumentException.class, () -> new TargetConfig.Stripe(List.of(), 65536));
            assertThrows(IllegalArgumentException.class, () -> e.create(DeviceConfig.of(new TargetConfig.Loop(dir.resolve("missing")))));
        }
    }

    @Test
    void loopWriteReadFlushDiscard() throws Exception {
        Path f = file(dir, "loop.img", 8 << 20);
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.add(DeviceConfig.of(new TargetConfig.Loop(f)).withQueues(2).withMaxIoBytes(64 << 10));
            assertEquals(8 << 20, d.size());
            BlockDevice b = d.block();
            MemorySegment data = random(a, 1 << 20, 7); // split into 16 requests of 64 KiB
            assertEquals(1 << 20, b.write(512 * 3, data).join());
            MemorySegment back = a.allocate(1 << 20, 4096);
            assertEquals(1 << 20, b.read(512 * 3, back).join());
            assertEquals(-1, data.mismatch(back));
            assertEquals(0, b.flush().join());
            byte[] onDisk = Files.readAllBytes(f);
            assertEquals(-1, MemorySegment.ofArray(onDisk).asSlice(512 * 3, 1 << 20).mismatch(data));
            b.writeZeroes(512 * 3, 4096).join();
            b.discard(512 * 3 + 4096, 4096).join();
            b.read(512 * 3, back.asSlice(0, 8192)).join();
            for (int i = 0; i < 8192; i++) assertEquals(0, back.get(ValueLayout.JAVA_BYTE, i));
            assertTrue(d.stats().total().op(IoOp.WRITE).ios() >= 16);
        }
    }

    /** Where device byte {@code off} of a stripe lives, computed straight from the definition. */
    static long[] where(long off, int files, int chunk) {
        long c = off / chunk;
        return new long[]{c % files, (c / files) * chunk + off % chunk};
    }

    @Test
    void stripeLayoutMatchesStraightComputation() throws Exception {
        for (int files : new int[]{1, 2, 4}) {
            for (int chunk : new int[]{4096, 512 << 10}) {
                List<Path> paths = new ArrayList<>();
                for (int i = 0; i < files; i++) paths.add(file(dir, "s" + files + "-" + chunk + "-" + i, 2L << 20));
                try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
                    Device d = e.add(DeviceConfig.of(new TargetConfig.Stripe(paths, chunk)).withQueues(2));
                    assertEquals(files * (2L << 20), d.size());
                    BlockDevice b = d.block();
                    // I/Os that straddle chunk boundaries
                    long[] offs = {chunk - 512, 3L * chunk - 4096, 0, d.size() - 3L * chunk - 1024};
                    int[] lens = {1024, 2 * chunk + 8192, chunk, 3 * chunk + 1024};
                    List<CompletableFuture<Integer>> fs = new ArrayList<>();
                    List<MemorySegment> datas = new ArrayList<>();
                    for (int i = 0; i < offs.length; i++) {
                        if (offs[i] < 0 || offs[i] + lens[i] > d.size()) continue;
                        MemorySegment m = random(a, lens[i], i * 31 + files);
                        datas.add(m);
                        fs.add(b.write(offs[i], m));
                        fs.getLast().join(); // overlapping ranges: keep order
                    }
                    b.flush().join();
                    byte[][] disk = new byte[files][];
                    for (int i = 0; i < files; i++) disk[i] = Files.readAllBytes(paths.get(i));
                    int k = 0;
                    byte[] expect = new byte[(int) d.size()];
                    // replay the writes on a flat image, then check every written byte's home
                    for (int i = 0; i < offs.length; i++) {
                        if (offs[i] < 0 || offs[i] + lens[i] > d.size()) continue;
                        MemorySegment.copy(datas.get(k++), ValueLayout.JAVA_BYTE, 0, expect, (int) offs[i], lens[i]);
                    }
                    for (long off = 0; off < d.size(); off += 512) {
                        long[] w = where(off, files, chunk);
                        for (int j = 0; j < 512; j += 64)
                            assertEquals(expect[(int) off + j], disk[(int) w[0]][(int) w[1] + j],
                                    "files " + files + " chunk " + chunk + " offset " + (off + j));
                    }
                    // and reading back through the device gives the flat image
                    MemorySegment all = a.allocate(d.size(), 4096);
                    b.read(0, all).join();
                    assertEquals(-1, all.mismatch(MemorySegment.ofArray(expect)));
                }
            }
        }
    }
}
