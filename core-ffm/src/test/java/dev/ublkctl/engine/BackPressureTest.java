package dev.ublkctl.engine;

import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.IoOp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BackPressureTest {
    @Test
    void aFullQueueSignalsFullAndBlockedSubmittersResume() throws Exception {
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.add(DeviceConfig.of(new TargetConfig.Null(1 << 20)).withDepth(4));
            CountDownLatch slowServer = new CountDownLatch(1), entered = new CountDownLatch(1);
            // a server that is stuck on its first request: the queue fills up behind it
            d.setServerHook((q, tag, op, off, len, via) -> {
                entered.countDown();
                try {
                    slowServer.await();
                } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                }
                return 0;
            });
            BlockDevice b = d.block();
            MemorySegment buf = a.allocate(4096, 4096);
            AtomicInteger done = new AtomicInteger();
            for (int i = 0; i < 4; i++) assertEquals(0, b.submit(0, IoOp.READ, 0, 4096, buf, (c, r) -> done.incrementAndGet(), i, false));
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            assertEquals(BlockDevice.FULL, b.submit(0, IoOp.READ, 0, 4096, buf, (c, r) -> fail("refused I/O called back"), 9, false));
            // a blocking submitter waits for a tag instead
            Thread blocked = Thread.ofPlatform().start(() -> {
                try {
                    assertEquals(0, b.submit(0, IoOp.READ, 0, 4096, buf, (c, r) -> done.incrementAndGet(), 5, true));
                } catch (InterruptedException x) {
                    throw new IllegalStateException(x);
                }
            });
            Thread.sleep(100);
            assertTrue(blocked.isAlive(), "no tag free: the submitter must wait");
            slowServer.countDown();
            blocked.join(10_000);
            assertFalse(blocked.isAlive());
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (done.get() < 5 && System.nanoTime() < until) Thread.sleep(5);
            assertEquals(5, done.get());
            assertEquals(5, d.stats().total().op(IoOp.READ).ios());
        }
    }
}
