package dev.ublkctl.ublk.emulated;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.DeviceInfo;
import dev.ublkctl.ublk.DeviceParams;
import dev.ublkctl.ublk.IoDesc;
import dev.ublkctl.ublk.IoOp;
import dev.ublkctl.ublk.UblkQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** The driver model on its own, driven the way a server drives a kernel queue. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EmulatedDriverTest {
    @Test
    void requestsArriveAsDescriptorsInSubmissionOrderAndSplitAtMaxIo() throws Exception {
        try (EmulatedDriver drv = new EmulatedDriver(); Arena a = Arena.ofShared()) {
            DeviceInfo info = drv.addDevice(new DeviceInfo(-1, 1, 8, 8192, 0));
            assertEquals(0, info.devId());
            assertThrows(IllegalStateException.class, () -> drv.startDevice(0), "no params yet");
            drv.setParams(0, new DeviceParams(9, 12, 2048, 16, true, -1));
            UblkQueue q = drv.openQueue(0, 0);
            drv.startDevice(0);
            assertThrows(IllegalStateException.class, () -> drv.setParams(0, new DeviceParams(9, 12, 2048, 16, true, -1)));
            BlockDevice b = drv.blockDevice(0).orElseThrow();
            MemorySegment buf = a.allocate(20480, 4096);
            List<Integer> results = new ArrayList<>();
            assertEquals(0, b.submit(0, IoOp.WRITE, 4096, 20480, buf, (c, r) -> results.add(r), 1, true)); // 3 parts
            assertEquals(0, b.submit(0, IoOp.FLUSH, 0, 0, null, (c, r) -> results.add(r), 2, true));
            List<long[]> seen = new ArrayList<>();
            UblkQueue.Handler h = new UblkQueue.Handler() {
                @Override public void onRequest(int tag) {
                    MemorySegment d = q.descriptors();
                    seen.add(new long[]{IoDesc.op(d, tag), IoDesc.nrSectors(d, tag), IoDesc.startSector(d, tag), IoDesc.addr(d, tag), tag});
                }
                @Override public void onServerCompletion(long ud, int res, int flags) { fail("no server SQEs"); }
                @Override public boolean serverBusy() { return false; }
            };
            while (seen.size() < 4) assertTrue(q.processEvents(h, true));
            assertArrayEquals(new long[]{IoOp.WRITE.code, 16, 8}, java.util.Arrays.copyOf(seen.get(0), 3));
            assertArrayEquals(new long[]{IoOp.WRITE.code, 16, 24}, java.util.Arrays.copyOf(seen.get(1), 3));
            assertArrayEquals(new long[]{IoOp.WRITE.code, 8, 40}, java.util.Arrays.copyOf(seen.get(2), 3));
            // a flush has no position: start_sector is (u64)-1, as the kernel driver sends it
            assertArrayEquals(new long[]{IoOp.FLUSH.code, 0, -1, 0}, java.util.Arrays.copyOf(seen.get(3), 4));
            for (int i = 0; i < 3; i++) assertEquals(q.ioBuffer((int) seen.get(i)[4]).address(), seen.get(i)[3], "addr = the tag's buffer");
            // distinct tags while in flight
            assertEquals(4, seen.stream().mapToLong(s -> s[4]).distinct().count());
            for (long[] s : seen) q.commit((int) s[4], s[0] == IoOp.FLUSH.code ? 0 : (int) s[1] << 9);
            assertEquals(List.of(20480, 0), results.stream().sorted(java.util.Comparator.reverseOrder()).toList());
            assertThrows(IllegalStateException.class, () -> q.commit((int) seen.get(0)[4], 0), "tag already committed");
            // stop: a queued request fails with ENODEV, the queue reports the end
            AtomicInteger res = new AtomicInteger(1);
            assertEquals(0, b.submit(0, IoOp.READ, 0, 512, buf, (c, r) -> res.set(r), 3, true));
            assertThrows(IllegalStateException.class, () -> drv.deleteDevice(0), "live");
            drv.stopDevice(0);
            assertFalse(q.processEvents(h, true));
            assertEquals(-Errno.ENODEV, res.get());
            assertEquals(-Errno.ENODEV, b.submit(0, IoOp.READ, 0, 512, buf, (c, r) -> fail(), 4, true));
            assertThrows(IllegalStateException.class, () -> drv.deleteDevice(0), "queue still open");
            q.close();
            drv.deleteDevice(0);
            assertTrue(drv.deviceIds().isEmpty());
        }
    }

    /**
     * A server (or a program) that completes more bytes than the request has: the front sees the
     * request's length, as the kernel's __ublk_complete_rq caps it (a 4 KiB read never "reads" 2 GiB).
     */
    @Test
    void completionIsCappedAtTheRequestLength() throws Exception {
        try (EmulatedDriver drv = new EmulatedDriver(); Arena a = Arena.ofShared()) {
            drv.addDevice(new DeviceInfo(-1, 1, 4, 8192, 0));
            drv.setParams(0, new DeviceParams(9, 12, 2048, 16, true, -1));
            UblkQueue q = drv.openQueue(0, 0);
            drv.startDevice(0);
            BlockDevice b = drv.blockDevice(0).orElseThrow();
            MemorySegment buf = a.allocate(4096, 4096);
            List<Integer> results = new java.util.concurrent.CopyOnWriteArrayList<>();
            assertEquals(0, b.submit(0, IoOp.READ, 0, 4096, buf, (c, r) -> results.add(r), 1, true));
            assertEquals(0, b.submit(0, IoOp.WRITE, 8192, 4096, buf, (c, r) -> results.add(r), 2, true));
            List<Integer> tags = new ArrayList<>();
            UblkQueue.Handler h = new UblkQueue.Handler() {
                @Override public void onRequest(int tag) { tags.add(tag); }
                @Override public void onServerCompletion(long ud, int res, int flags) { fail("no server SQEs"); }
                @Override public boolean serverBusy() { return false; }
            };
            while (tags.size() < 2) assertTrue(q.processEvents(h, true));
            for (int t : tags) q.commit(t, Integer.MAX_VALUE);
            long end = System.nanoTime() + 5_000_000_000L;
            while (results.size() < 2 && System.nanoTime() < end) q.processEvents(h, false);
            assertEquals(List.of(4096, 4096), results);
            drv.stopDevice(0);
            q.close();
            drv.deleteDevice(0);
        }
    }
}
