package dev.ublkctl.tui.metrics;

import dev.ublkctl.tui.model.QueueCounters;
import dev.ublkctl.tui.model.SourceState;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.ublkctl.tui.testing.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

class RateCalculatorTest {

    private final RateCalculator calc = new RateCalculator(300, 1000);

    @Test
    void firstSightHasCountsButNoRates() {
        var f = calc.update(snap(0, device(1, "null", "null", 2, 1000, 100)));
        DeviceRow r = f.row(1).orElseThrow();
        assertTrue(Double.isNaN(r.total().iops()));
        assertEquals(6, r.total().inFlight());
        assertEquals(2000, r.total().progRuns());
        assertEquals(Presence.LIVE, r.presence(), "devices there at first contact are not 'new'");
    }

    @Test
    void ratesFromTwoSnapshotsPerQueueAndTotal() {
        calc.update(snap(0, device(1, "loop", "loop", 2, 1000, 80)));
        var f = calc.update(snap(2 * SEC, device(1, "loop", "loop", 2, 5000, 80)));
        DeviceRow r = f.row(1).orElseThrow();
        assertEquals(2, r.queues().size());
        QueueRates q0 = r.queues().get(0);
        assertEquals(2000, q0.iops(), 1e-9);                      // 4000 I/Os in 2 s
        assertEquals(2000 * 4096 / 1e6, q0.mbPerSec(), 1e-9);
        assertEquals(0.8, q0.bpfShare(), 1e-9);
        assertEquals(0.2, q0.redirectShare(), 1e-9);
        assertEquals(200, q0.splitPerSec(), 1e-9);
        assertEquals(500, q0.avgRunNanos(), 1e-9);
        assertEquals(4000, r.total().iops(), 1e-9);
        assertEquals(0.8, r.total().bpfShare(), 1e-9);
        assertEquals(19_900, r.total().p99Nanos(), 1, "all I/Os in the (10us, 20us] bucket: rank 7920 of 8000");
        assertEquals(2000, f.iopsOf(1).last() / 2, 1e-9);
        assertEquals(0.2, f.redirectOf(1).last(), 1e-9);
    }

    @Test
    void p99ComesFromTheIntervalOnlyNotTheWholeHistory() {
        var slow = new QueueCounters(0, 100, 409600, 0, 100, 0, 0, 0,
                new dev.ublkctl.tui.model.LatencyHistogram(new long[]{1000, 1_000_000}, new long[]{0, 100}), 0, 0);
        var plusFast = new QueueCounters(0, 200, 819200, 0, 200, 0, 0, 0,
                new dev.ublkctl.tui.model.LatencyHistogram(new long[]{1000, 1_000_000}, new long[]{100, 100}), 0, 0);
        calc.update(snap(0, device(3, "null", null, List.of(slow))));
        var f = calc.update(snap(SEC, device(3, "null", null, List.of(plusFast))));
        assertTrue(f.row(3).orElseThrow().total().p99Nanos() <= 1000, "the last interval only had fast I/Os");
        assertTrue(Double.isNaN(f.row(3).orElseThrow().total().avgRunNanos()), "no program, no runs");
    }

    /** Many devices: series only for the one on screen; few: for every one (each gets a chart). */
    @Test
    void seriesAreCopiedOnlyForTheDeviceOnScreenWhenThereAreMany() {
        int n = RateCalculator.CHART_ALL_MAX + 1;
        java.util.function.LongFunction<dev.ublkctl.tui.model.DeviceSnapshot[]> all = ios -> {
            dev.ublkctl.tui.model.DeviceSnapshot[] ds = new dev.ublkctl.tui.model.DeviceSnapshot[n];
            for (int i = 0; i < n; i++) ds[i] = device(i + 1, "null", null, 1, ios * (i + 1), 0);
            return ds;
        };
        calc.update(snap(0, all.apply(0)));
        var f = calc.update(snap(SEC, all.apply(10)), java.util.OptionalInt.of(2));
        assertEquals(Series.EMPTY, f.iopsOf(1));
        assertEquals(20, f.iopsOf(2).last(), 1e-9);
        f = calc.update(snap(2 * SEC, all.apply(20)), java.util.OptionalInt.of(1));
        assertEquals(2, f.iopsOf(1).size(), "history was kept while device 1 was not on screen");
        assertTrue(calc.update(snap(3 * SEC), java.util.OptionalInt.empty()).series().isEmpty());

        var few = new RateCalculator(300, 100);
        few.update(snap(0, device(1, "null", null, 1, 0, 0), device(2, "null", null, 1, 0, 0)));
        f = few.update(snap(SEC, device(1, "null", null, 1, 10, 0), device(2, "null", null, 1, 20, 0)), java.util.OptionalInt.of(2));
        assertEquals(10, f.iopsOf(1).last(), 1e-9);
        assertEquals(20, f.iopsOf(2).last(), 1e-9);
        assertEquals(1, f.queueIopsOf(2).size(), "per-queue series for the focused device only");
        assertTrue(f.queueIopsOf(1).isEmpty());
    }

    @Test
    void counterResetCountsFromZeroInsteadOfGoingNegative() {
        calc.update(snap(0, device(1, "null", "null", 1, 100_000, 100)));
        var f = calc.update(snap(SEC, device(1, "null", "null", 1, 300, 100)));
        assertEquals(300, f.row(1).orElseThrow().total().iops(), 1e-9);
    }

    @Test
    void deviceThatAppearsIsNewThenLive() {
        calc.update(snap(0, device(1, "null", null, 1, 0, 0)));
        var f = calc.update(snap(SEC, device(1, "null", null, 1, 0, 0), device(2, "loop", null, 1, 0, 0)));
        assertEquals(Presence.NEW, f.row(2).orElseThrow().presence());
        assertEquals("new", f.row(2).orElseThrow().stateWord());
        f = calc.update(snap(7 * SEC, device(1, "null", null, 1, 0, 0), device(2, "loop", null, 1, 0, 0)));
        assertEquals(Presence.LIVE, f.row(2).orElseThrow().presence());
    }

    @Test
    void deviceThatDisappearsIsShownGoneThenDropped() {
        calc.update(snap(0, device(1, "null", null, 1, 10, 0), device(2, "loop", null, 1, 10, 0)));
        var f = calc.update(snap(SEC, device(1, "null", null, 1, 20, 0)));
        DeviceRow gone = f.row(2).orElseThrow();
        assertEquals(Presence.GONE, gone.presence());
        assertEquals("gone", gone.stateWord());
        assertTrue(Double.isNaN(gone.total().iops()));
        f = calc.update(snap(5 * SEC, device(1, "null", null, 1, 30, 0)));
        assertTrue(f.row(2).isPresent());
        f = calc.update(snap(12 * SEC, device(1, "null", null, 1, 40, 0)));
        assertTrue(f.row(2).isEmpty(), "dropped after the linger time");
        assertEquals(1, f.rows().size());
    }

    @Test
    void deviceRecreatedWithTheSameIdStartsAfresh() {
        calc.update(snap(0, device(2, "loop", null, 1, 5000, 0)));
        calc.update(snap(SEC));                     // deleted
        var f = calc.update(snap(2 * SEC, device(2, "null", null, 1, 100, 0)));
        assertEquals(Presence.NEW, f.row(2).orElseThrow().presence());
        assertEquals("null", f.row(2).orElseThrow().device().target());
    }

    @Test
    void daemonLossKeepsLastKnownRowsMarkedLost() {
        calc.update(snap(0, device(1, "null", "null", 1, 10, 0)));
        calc.update(snap(SEC, device(1, "null", "null", 1, 20, 0)));
        var f = calc.update(down(2 * SEC, SourceState.LOST, "connection reset"));
        assertEquals(SourceState.LOST, f.state());
        DeviceRow r = f.row(1).orElseThrow();
        assertEquals(Presence.DAEMON_LOST, r.presence());
        assertEquals("lost", r.stateWord());
        assertTrue(Double.isNaN(r.total().iops()));
        assertEquals(0, r.total().inFlight());
        // The daemon comes back without the device: gone.
        f = calc.update(snap(3 * SEC));
        assertEquals(Presence.GONE, f.row(1).orElseThrow().presence());
    }

    @Test
    void idleDeviceHasZeroRatesAndUnknownShares() {
        calc.update(snap(0, device(1, "null", "null", 1, 10, 50)));
        var r = calc.update(snap(SEC, device(1, "null", "null", 1, 10, 50))).row(1).orElseThrow();
        assertEquals(0, r.total().iops());
        assertTrue(Double.isNaN(r.total().bpfShare()), "no I/O: no share");
        assertTrue(Double.isNaN(r.total().p99Nanos()));
    }
}
