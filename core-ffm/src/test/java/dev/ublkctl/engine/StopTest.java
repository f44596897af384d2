package dev.ublkctl.engine;

import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.sys.Errno;
import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.BlockIoException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StopTest {
    @TempDir Path dir;

    @Test
    void stopWithWritesInFlightLosesNoAcknowledgedWrite() throws Exception { stopWithWritesInFlight(false); }

    @Test
    void stopWithBpfAioInFlightLosesNoAcknowledgedWrite() throws Exception { stopWithWritesInFlight(true); }

    private void stopWithWritesInFlight(boolean bpf) throws Exception {
        Path f = dir.resolve("stop.img");
        int blocks = 4096;
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) { raf.setLength(blocks * 4096L); }
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Loop(f)).withQueues(2).withDepth(8));
            if (bpf) d.attach(UblkProgram.load(BpfObject.load(BpfFixtures.bundled("loop")), OpsRef.id(16)));
            d.start();
            BlockDevice b = d.block();
            List<CompletableFuture<Integer>> fs = new CopyOnWriteArrayList<>();
            MemorySegment[] bufs = new MemorySegment[blocks];
            CountDownLatch some = new CountDownLatch(200);
            Thread submitter = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < blocks; i++) {
                    bufs[i] = a.allocate(4096, 4096);
                    bufs[i].fill((byte) (i * 7 + 1));
                    bufs[i].set(ValueLayout.JAVA_INT, 0, i + 1);
                    CompletableFuture<Integer> w = b.write(i * 4096L, bufs[i]);
                    w.whenComplete((r, x) -> some.countDown());
                    fs.add(w);
                }
            });
            assertTrue(some.await(30, TimeUnit.SECONDS));
            d.stop();
            submitter.join(30_000);
            assertFalse(submitter.isAlive(), "a submitter blocked for a tag must be released by stop");
            int ok = 0, stopped = 0;
            byte[] disk = Files.readAllBytes(f);
            for (int i = 0; i < fs.size(); i++) {
                CompletableFuture<Integer> w = fs.get(i);
                assertTrue(w.isDone(), "write " + i + " still pending after stop");
                try {
                    assertEquals(4096, w.join());
                    ok++;
                    assertEquals(-1, MemorySegment.ofArray(disk).asSlice(i * 4096L, 4096).mismatch(bufs[i]),
                            "acknowledged write " + i + " is not on disk");
                } catch (CompletionException x) {
                    assertEquals(Errno.ENODEV, ((BlockIoException) x.getCause()).errno(), x.getCause().getMessage());
                    stopped++;
                }
            }
            assertTrue(ok >= 200, "acknowledged " + ok);
            assertEquals(fs.size(), ok + stopped);
            assertEquals(0, d.stats().total().inFlight(), "every fetched request was committed before the threads ended");
            if (bpf) assertEquals(d.stats().total().aioSubmitted(), d.stats().total().aioCompleted());
            d.delete();
        }
    }

    @Test
    void deleteWithoutStartAndDoubleStopAreFine() {
        try (Engine e = Engine.emulated()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Null()));
            d.stop();
            d.stop();
            d.delete();
            assertEquals(DeviceState.DELETED, d.state());
            Device d2 = e.add(DeviceConfig.of(new TargetConfig.Null()).withId(7));
            assertEquals(7, d2.id());
            assertThrows(IllegalArgumentException.class, () -> e.create(DeviceConfig.of(new TargetConfig.Null()).withId(7)));
        }
    }
}
