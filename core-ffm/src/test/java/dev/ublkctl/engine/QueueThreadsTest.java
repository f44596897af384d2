package dev.ublkctl.engine;

import dev.ublkctl.engine.load.Bench;
import dev.ublkctl.engine.load.BenchSpec;
import dev.ublkctl.engine.load.Pattern;
import dev.ublkctl.engine.stats.DeviceStats;
import dev.ublkctl.engine.stats.QueueStats;
import dev.ublkctl.engine.load.Verifier;
import dev.ublkctl.engine.load.VerifyResult;
import dev.ublkctl.engine.load.VerifySpec;

import dev.ublkctl.target.TargetConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Fewer serving threads than queues (kublk's --nthreads): every queue is served, data is exact, stop ends cleanly. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class QueueThreadsTest {
    @TempDir Path dir;

    @Test
    void fourQueuesOnOneAndOnTwoThreads() throws Exception {
        for (int threads : new int[]{1, 2}) {
            Path f = EngineBasicTest.file(dir, "t" + threads + ".img", 4 << 20);
            try (Engine e = Engine.emulated()) {
                Device d = e.add(DeviceConfig.of(new TargetConfig.Loop(f)).withQueues(4).withDepth(16).withThreads(threads));
                assertEquals(threads, d.nrThreads());
                long serving = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("ublk-d" + d.id() + "-")).count();
                assertEquals(threads, serving, "serving threads");
                VerifyResult v = Verifier.run(d, new VerifySpec(0, 0, 4096, 32, 3, false), null);
                assertTrue(v.ok(), () -> "threads " + threads + ": " + v.firstMismatch());
                // a random mix from four jobs (job j submits on queue j) reaches every queue
                Bench.run(d, BenchSpec.of(Pattern.RANDRW).withNumJobs(4).withIoDepth(16).withIoCount(4000).withRuntime(Duration.ofSeconds(20)), null);
                DeviceStats s = d.stats();
                for (QueueStats q : s.queues()) assertTrue(q.ios() > 0, "threads " + threads + ": queue " + q.queue() + " served nothing");
                assertEquals(0, s.total().errorCount());
                d.stop();   // with the queues idle or not, the threads end (stop waits for them)
                assertEquals(DeviceState.STOPPED, d.state());
            }
        }
    }

    @Test
    void stopWithIoInFlightOnSharedThreads() throws Exception {
        try (Engine e = Engine.emulated()) {
            Device d = e.add(DeviceConfig.of(new TargetConfig.Null(64L << 20)).withQueues(3).withDepth(8).withThreads(2));
            Thread load = Thread.ofPlatform().start(() -> {
                try {
                    Bench.run(d, BenchSpec.of(Pattern.RANDREAD).withIoDepth(32).withRuntime(Duration.ofSeconds(30)), null);
                } catch (RuntimeException expected) {
                    // the device stops under it
                }
            });
            Thread.sleep(300);
            d.stop();
            load.join(20_000);
            assertFalse(load.isAlive(), "the load ended after stop");
            assertEquals(DeviceState.STOPPED, d.state());
        }
    }

    @Test
    void threadsOutsideOneToQueuesAreRefused() {
        var cfg = DeviceConfig.of(new TargetConfig.Null()).withQueues(2);
        assertThrows(IllegalArgumentException.class, () -> cfg.withThreads(3));
        assertThrows(IllegalArgumentException.class, () -> cfg.withThreads(-1));
    }
}
