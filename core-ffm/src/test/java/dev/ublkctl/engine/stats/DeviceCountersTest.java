package dev.ublkctl.engine.stats;

import dev.ublkctl.ublk.IoOp;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link DeviceCounters}: the exporter's reading gives the numbers {@link DeviceStats} gives. */
class DeviceCountersTest {

    static DeviceCounters read(QueueCounters[] qs) {
        DeviceCounters d = new DeviceCounters(7, qs.length);
        for (int q = 0; q < qs.length; q++) qs[q].addTo(d, q);
        return d.finish();
    }

    static DeviceStats stats(QueueCounters[] qs) {
        List<QueueStats> l = new ArrayList<>();
        for (QueueCounters q : qs) l.add(q.snapshot());
        return DeviceStats.of(7, l);
    }

    /** Every counter, per queue and for the device, and the device histogram equal DeviceStats' (its histogram is the sum of the queues'). */
    static void assertSame(DeviceStats s, DeviceCounters c) {
        assertEquals(s.queues().size(), c.queues());
        for (int q = -1; q < c.queues(); q++) {
            QueueStats e = q < 0 ? s.total() : s.queues().get(q);
            for (IoOp op : IoOp.values()) {
                assertEquals(e.op(op).ios(), c.ios(q, op), "queue " + q + " " + op);
                assertEquals(e.op(op).bytes(), c.bytes(q, op), "queue " + q + " " + op + " bytes");
            }
            assertEquals(e.bytes(), c.bytes(q));
            assertEquals(e.bpfHandled(), c.bpfHandled(q));
            assertEquals(e.redirected(), c.redirected(q));
            assertEquals(e.splitParts(), c.splitParts(q));
            assertEquals(e.aioSubmitted(), c.aioSubmitted(q));
            assertEquals(e.aioCompleted(), c.aioCompleted(q));
            assertEquals(e.inFlight(), c.inFlight(q), "queue " + q + " in flight");
            assertEquals(e.progRuns(), c.progRuns(q));
            assertEquals(e.progRunNanos(), c.progRunNanos(q));
        }
        assertEquals(s.total().errors(), c.errors());
        LatencySnapshot sum = LatencySnapshot.empty();
        for (QueueStats q : s.queues()) sum = sum.plus(q.latency());
        assertEquals(sum, s.total().latency());
        assertEquals(s.total().latency(), c.latency());
        assertEquals(s.total().latency().count(), c.latencyCount());
        assertEquals(s.total().latency().sumNanos(), c.latencySumNanos());
    }

    @Test
    void idleDeviceIsAllZeros() {
        QueueCounters[] qs = {new QueueCounters(0), new QueueCounters(1)};
        DeviceCounters c = read(qs);
        assertSame(stats(qs), c);
        assertEquals(0, c.latencyCount());
        assertEquals(LatencySnapshot.empty(), c.latency());
    }

    /**
     * Many threads record into several queues at once (each its own shard, some ending and being
     * folded into the queue's retired sum) while a reader takes DeviceCounters: every reading's
     * counters and histogram buckets only grow, and once the writers are done the reading equals
     * DeviceStats, whose device histogram is the sum of the queues'.
     */
    @Test
    void deviceHistogramIsTheSumOfTheQueuesAfterConcurrentRecording() throws Exception {
        int queues = 4, writers = 8, rounds = 3, perWriter = 20_000;
        QueueCounters[] qs = new QueueCounters[queues];
        for (int q = 0; q < queues; q++) qs[q] = new QueueCounters(q);
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                DeviceCounters before = read(qs);
                while (!done.get()) {
                    DeviceCounters now = read(qs);
                    for (int i = 0; i < LatencySnapshot.BUCKETS; i++)
                        assertTrue(now.latencyBucket(i) >= before.latencyBucket(i), "bucket " + i + " went back");
                    assertTrue(now.latencySumNanos() >= before.latencySumNanos());
                    assertTrue(now.ios(-1, IoOp.READ) >= before.ios(-1, IoOp.READ));
                    for (int q = 0; q < queues; q++) assertTrue(now.bpfHandled(q) >= before.bpfHandled(q));
                    before = now;
                }
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        long expectedIos = 0;
        // several rounds of short-lived writers: each round's threads end, and the readers fold them
        for (int r = 0; r < rounds; r++) {
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> ts = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int seed = r * writers + w;
                ts.add(Thread.ofPlatform().start(() -> {
                    try { go.await(); } catch (InterruptedException e) { return; }
                    var rnd = new java.util.Random(seed);
                    for (int i = 0; i < perWriter; i++) {
                        StatsRecorder rec = qs[rnd.nextInt(queues)].get();
                        rec.started();
                        if (rnd.nextBoolean()) rec.bpfHandled(); else rec.redirected();
                        rec.progRun(50 + rnd.nextInt(100));
                        int op = rnd.nextInt(4);
                        int result = rnd.nextInt(1000) == 0 ? -5 : 4096;
                        // latencies from 100 ns to ~10 ms, so the histogram spans many octaves
                        rec.completed(op, 4096, result, (long) (100 * Math.pow(10, rnd.nextDouble() * 5)));
                    }
                }));
            }
            go.countDown();
            for (Thread t : ts) t.join();
            expectedIos += (long) writers * perWriter;
        }
        // one writer still alive (its shard live, not retired)
        CountDownLatch recorded = new CountDownLatch(1), finish = new CountDownLatch(1);
        Thread live = Thread.ofPlatform().start(() -> {
            StatsRecorder rec = qs[1].get();
            rec.started();                                  // one I/O in flight
            rec.completed(0, 512, 0, ThreadLocalRandom.current().nextLong(1, 1_000_000_000L));
            rec.started();
            recorded.countDown();
            try { finish.await(); } catch (InterruptedException ignored) { }
        });
        recorded.await();
        expectedIos += 1;
        done.set(true);
        reader.join();
        assertNull(failed.get(), () -> "reader: " + failed.get());

        DeviceCounters c = read(qs);
        DeviceStats s = stats(qs);
        assertSame(s, c);
        long ios = 0;
        for (IoOp op : IoOp.values()) ios += c.ios(-1, op);
        long errors = c.errors().values().stream().mapToLong(Long::longValue).sum();
        assertEquals(expectedIos, ios + errors, "every completed I/O counted once");
        assertEquals(expectedIos, c.latencyCount());
        assertEquals(1, c.inFlight(1));
        assertEquals(1, c.inFlight(-1));
        // reading twice changes nothing (folding ended threads' shards moves counts, never loses them)
        assertSame(stats(qs), read(qs));
        finish.countDown();
        live.join();
        assertSame(stats(qs), read(qs));
    }

    /** A recorder's histogram read in place (only the octaves it recorded in) equals its snapshot. */
    @Test
    void rangedReadEqualsSnapshot() {
        for (long[] values : new long[][]{{0}, {5, 5, 5}, {1, 1L << 40}, {999, 1000, 1001, 123_456_789}, {17, 300, 70_000, Long.MAX_VALUE / 2}}) {
            QueueCounters q = new QueueCounters(0);
            for (long v : values) q.get().completed(0, 0, 0, v);
            DeviceCounters d = new DeviceCounters(0, 1);
            q.addTo(d, 0);
            d.finish();
            LatencySnapshot s = q.snapshot().latency();
            assertEquals(s, d.latency());
            long[] b = new long[LatencySnapshot.BUCKETS];
            for (int i = 0; i < b.length; i++) b[i] = d.latencyBucket(i);
            assertArrayEquals(s.buckets(), b);
        }
    }
}
