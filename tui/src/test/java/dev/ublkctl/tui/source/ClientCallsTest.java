package dev.ublkctl.tui.source;

import dev.ublkctl.daemon.AddRequest;
import dev.ublkctl.daemon.BenchRequest;
import dev.ublkctl.daemon.Daemon;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.RunDir;
import dev.ublkctl.target.TargetType;
import dev.ublkctl.tui.metrics.RateCalculator;
import dev.ublkctl.tui.model.SourceState;
import dev.ublkctl.ublk.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The monitor's source over the real daemon: engine devices on the emulated backend with the
 * bundled null program, the socket, JSON-RPC and client; I/O from the daemon's own bench.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientCallsTest {

    @Test
    void readsDevicesStatsAndMapsOverRpcAndNoticesTheDaemonDying(@TempDir Path tmp) throws Exception {
        RunDir dir = new RunDir(tmp.resolve("run"), true);
        try (DaemonSource src = ClientCalls.source(dir)) {
            assertEquals(SourceState.NO_DAEMON, src.poll(OptionalInt.empty()).state());

            Daemon d = Daemon.withEngine(dir, m -> { });
            assertTrue(d.start());
            try {
                d.add(new AddRequest(AddRequest.AUTO_ID, TargetType.NULL, 2, 64, 1L << 30, 512, List.of(), 0, "null", null,
                        Backend.EMULATED, false, 0));
                d.add(new AddRequest(7, TargetType.NULL, 1, 32, 1L << 20, 512, List.of(), 0, null, null, Backend.EMULATED, false, 0));
                var calc = new RateCalculator(60, 100);
                var s1 = src.poll(OptionalInt.of(0));
                assertEquals(SourceState.CONNECTED, s1.state(), s1.message());
                assertEquals(dir.socket().toString(), src.describe());
                assertEquals(List.of(0, 7), s1.devices().stream().map(x -> x.id()).toList());
                var d0 = s1.device(0).orElseThrow();
                assertEquals("null_ops", d0.program());
                assertEquals("null", d0.target());
                assertEquals("emulated", d0.backend());
                assertEquals(2, d0.counters().size());
                assertTrue(d0.maps().stream().anyMatch(m -> m.name().equals("qstats")), "the bundled program's maps: " + d0.maps());
                assertTrue(s1.device(7).orElseThrow().maps().isEmpty(), "not focused");
                calc.update(s1);

                // I/O between two polls, made by the daemon itself
                try (DaemonClient c = DaemonClient.connect(dir)) {
                    var b = c.bench(0, new BenchRequest("randread", 4096, 8, 2, 0.5), Duration.ofSeconds(60), null);
                    assertTrue(b.ios() > 0, "bench ran: " + b);
                    assertFalse(b.clat().buckets().isEmpty(), "the bench answer carries its histogram");
                }
                var s2 = src.poll(OptionalInt.of(0));
                var q0 = s2.device(0).orElseThrow().counters().getFirst();
                assertTrue(q0.latency().total() > 0, "the daemon sent the histogram: " + q0);
                assertEquals(q0.ios(), q0.latency().total(), "one latency sample per completed I/O");
                var row = calc.update(s2).row(0).orElseThrow();
                assertTrue(row.total().iops() > 0);
                assertEquals(1.0, row.total().bpfShare(), 1e-9, "null_ops completes every I/O in BPF");
                assertTrue(row.total().p99Nanos() > 0, "p99 over the interval, from the histogram: " + row.total());
                assertTrue(row.total().avgRunNanos() > 0);
                var qstats = s2.device(0).orElseThrow().maps().stream().filter(m -> m.name().equals("qstats")).findFirst().orElseThrow();
                assertFalse(qstats.entries().isEmpty());
                assertTrue(qstats.entries().getFirst().value().startsWith("{"), "BTF-decoded: " + qstats.entries().getFirst());
            } finally {
                d.close();
            }
            var lost = src.poll(OptionalInt.empty());
            assertEquals(SourceState.LOST, lost.state());
            assertNotNull(lost.message());
        }
    }
}
