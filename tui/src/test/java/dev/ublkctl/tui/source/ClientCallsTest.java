package dev.ublkctl.tui.source;

import dev.ublkctl.target.TargetType;
import dev.ublkctl.ublk.Backend;
import dev.ublkctl.daemon.AddRequest;
import dev.ublkctl.daemon.Daemon;
import dev.ublkctl.daemon.RunDir;
import dev.ublkctl.tui.metrics.RateCalculator;
import dev.ublkctl.tui.model.SourceState;
import dev.ublkctl.tui.testing.SyntheticDevices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.*;

/** The monitor's source over a real daemon, socket and JSON-RPC client. */
class ClientCallsTest {

    @Test
    void readsDevicesStatsAndMapsOverRpcAndNoticesTheDaemonDying(@TempDir Path tmp) throws Exception {
        RunDir dir = new RunDir(tmp.resolve("run"), true);
        try (DaemonSource src = ClientCalls.source(dir)) {
            assertEquals(SourceState.NO_DAEMON, src.poll(OptionalInt.empty()).state());

            Daemon d = new Daemon(dir, new SyntheticDevices(), m -> { });
            assertTrue(d.start());
            try {
                d.add(new AddRequest(-1, TargetType.NULL, 2, 64, 1L << 30, 512, List.of(), 0, "null", null, Backend.EMULATED, false, 0));
                d.add(new AddRequest(7, TargetType.NULL, 1, 32, 1L << 20, 512, List.of(), 0, null, null, Backend.EMULATED, false, 0));
                var calc = new RateCalculator(60, 100);
                var s1 = src.poll(OptionalInt.of(0));
                assertEquals(SourceState.CONNECTED, s1.state(), s1.message());
                assertEquals(dir.socket().toString(), src.describe());
                assertEquals(List.of(0, 7), s1.devices().stream().map(x -> x.id()).toList());
                var d0 = s1.device(0).orElseThrow();
                assertEquals("null", d0.program());
                assertEquals(2, d0.counters().size());
                assertEquals(1000, d0.counters().getFirst().ios());
                assertEquals(1, d0.maps().size());
                assertEquals("{handled=750, redirected=250}", d0.maps().getFirst().entries().getFirst().value());
                assertTrue(s1.device(7).orElseThrow().maps().isEmpty(), "not focused");
                calc.update(s1);
                var f = calc.update(src.poll(OptionalInt.empty()));
                var row = f.row(0).orElseThrow();
                assertEquals(0.75, row.total().bpfShare(), 1e-9);
                assertTrue(row.total().iops() > 0);
                assertEquals(250, row.total().avgRunNanos(), 1e-9);
            } finally {
                d.close();
            }
            var lost = src.poll(OptionalInt.empty());
            assertEquals(SourceState.LOST, lost.state());
            assertNotNull(lost.message());
        }
    }
}
