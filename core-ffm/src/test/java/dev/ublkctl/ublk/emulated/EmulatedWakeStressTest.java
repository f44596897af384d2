package dev.ublkctl.ublk.emulated;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.DeviceInfo;
import dev.ublkctl.ublk.DeviceParams;
import dev.ublkctl.ublk.IoDesc;
import dev.ublkctl.ublk.IoOp;
import dev.ublkctl.ublk.UblkQueue;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The submitter → serving-thread hand-off under stress: several submitters, each with one request
 * at a time (so nearly every request finds the serving thread going to sleep or asleep), a queue
 * shallower than the submitters (so some block for a tag), and half the requests committed only
 * after a server SQE on the queue's ring. A lost wake-up leaves a submitter waiting for good: each
 * wait has a generous bound and fails the test with the submitter and request it was stuck on.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EmulatedWakeStressTest {
    private static final int SUBMITTERS = 3, PER_SUBMITTER = 4000;

    /**
     * {@code window} requests per submitter at a time: with 1 and depth 2 nearly every request needs
     * a wake-up and some submitters wait for a tag; with 16 and depth 64, passes hold more requests
     * than a completion batch, so completions are handed back in the middle of a pass too.
     */
    @ParameterizedTest(name = "spin up to {0} ns, depth {1}, window {2}, plugged {3}")
    @CsvSource({"0, 2, 1, false", "20000, 2, 1, false", "0, 64, 16, false", "100000, 64, 16, false",
            // a plug holds its requests: a window larger than the depth must hand them over before it blocks for a tag
            "0, 2, 5, true", "100000, 64, 16, true"})
    void noLostWakeUps(long spin, int depth, int window, boolean plugged) throws Exception {
        try (EmulatedDriver drv = new EmulatedDriver(); Arena a = Arena.ofShared()) {
            drv.queueSpinMaxNanos = spin;
            int id = drv.addDevice(new DeviceInfo(-1, 1, depth, 4096, 0)).devId();
            drv.setParams(id, new DeviceParams(9, 12, 2048, 8, false, -1));
            UblkQueue q = drv.openQueue(id, 0);
            drv.startDevice(id);
            BlockDevice b = drv.blockDevice(id).orElseThrow();

            AtomicReference<Throwable> serverFailure = new AtomicReference<>();
            AtomicLong served = new AtomicLong();
            Thread server = Thread.ofPlatform().name("stress-server").start(() -> {
                int[] inRing = {0};
                UblkQueue.Handler h = new UblkQueue.Handler() {
                    @Override public void onRequest(int tag) {
                        served.incrementAndGet();
                        int len = IoDesc.nrSectors(q.descriptors(), tag) << IoDesc.SECTOR_SHIFT;
                        if ((IoDesc.startSector(q.descriptors(), tag) & 1) == 0) q.commit(tag, len);
                        else { // commit when a server NOP comes back through the ring
                            q.ring().sqe().prepNop().userData(UblkQueue.SERVER_UD | ((long) len << 16) | tag);
                            inRing[0]++;
                        }
                    }
                    @Override public void onServerCompletion(long ud, int res, int flags) {
                        inRing[0]--;
                        q.commit((int) (ud & 0xffff), (int) ((ud & ~UblkQueue.SERVER_UD) >>> 16));
                    }
                    @Override public boolean serverBusy() { return inRing[0] > 0; }
                };
                try {
                    while (q.processEvents(h, true)) { /* serve */ }
                } catch (Throwable t) {
                    serverFailure.set(t);
                }
            });

            List<Thread> subs = new ArrayList<>();
            AtomicReference<String> stuck = new AtomicReference<>();
            AtomicInteger wrongResults = new AtomicInteger();
            for (int s = 0; s < SUBMITTERS; s++) {
                int sid = s;
                MemorySegment buf = a.allocate(4096L * window, 4096);
                subs.add(Thread.ofPlatform().name("stress-submitter-" + s).start(() -> {
                    Semaphore done = new Semaphore(0);
                    try {
                        for (int i = 0; i < PER_SUBMITTER && stuck.get() == null; i += window) {
                            BlockDevice.Plug plug = plugged ? b.plug() : null;
                            for (int k = 0; k < window; k++) {
                                int len = 512 << ((i + k) % 4); // 512..4096 bytes
                                long off = (long) (((i + k) * 7 + sid) % 1024) * 512; // odd and even sectors
                                int r = b.submit(0, IoOp.READ, off, len, buf.asSlice(4096L * k, 4096), (c, res) -> {
                                    if (res != (int) c) wrongResults.incrementAndGet();
                                    done.release();
                                }, len, true);
                                if (r != 0) {
                                    stuck.compareAndSet(null, "submitter " + sid + ": request " + (i + k) + " refused with " + r);
                                    return;
                                }
                            }
                            if (plug != null) plug.close();
                            if (!done.tryAcquire(window, 10, TimeUnit.SECONDS)) {
                                stuck.compareAndSet(null, "submitter " + sid + " waited 10 s for requests " + i + ".." + (i + window - 1)
                                        + " (lost wake-up); the server had served " + served.get());
                                return;
                            }
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (Thread t : subs) t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())));
            if (stuck.get() != null || subs.stream().anyMatch(Thread::isAlive)) {
                drv.stopDevice(id); // releases submitters blocked for a tag
                fail(stuck.get() != null ? stuck.get() : "submitters still blocked after 30 s (lost wake-up)");
            }
            assertEquals(0, wrongResults.get(), "every request completes with its length");
            assertEquals((long) SUBMITTERS * PER_SUBMITTER, served.get());

            // stop while the serving thread is (very likely) asleep: it must notice and end
            drv.stopDevice(id);
            server.join(TimeUnit.SECONDS.toMillis(20));
            assertFalse(server.isAlive(), "serving thread did not see the stop (lost wake-up)");
            assertNull(serverFailure.get());
            assertEquals(-Errno.ENODEV, b.submit(0, IoOp.READ, 0, 512, a.allocate(512), (c, r) -> fail(), 0, true));
            q.close();
        }
    }
}
