package dev.ublkctl.tui.source;

import dev.ublkctl.daemon.Json;
import dev.ublkctl.daemon.MapView;
import dev.ublkctl.engine.stats.LatencySnapshot;
import dev.ublkctl.target.TargetType;
import dev.ublkctl.tui.metrics.RateCalculator;
import dev.ublkctl.tui.model.LatencyHistogram;
import dev.ublkctl.tui.model.MapEntry;
import dev.ublkctl.tui.model.MonitorSnapshot;
import dev.ublkctl.tui.model.SourceState;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.ublkctl.tui.testing.DaemonAnswers.*;
import static org.junit.jupiter.api.Assertions.*;

/** The monitor's model from the daemon's answers, as the daemon's own code makes them. */
class ViewsTest {

    @Test
    void readsTheDaemonsStatsAnswerWithItsHistogram() {
        var lat = latency(new long[]{1000, 2000}, new long[]{10, 5});
        var stats = stats(3, 5, queue(0, 15, 12, Map.of(5, 1L, 28, 2L), lat), queue(1, 7, 0, Map.of(), LatencySnapshot.empty()));
        var d = Views.device(record(3, TargetType.LOOP, 2, "loop"), stats, null);
        assertEquals(3, d.id());
        assertEquals("loop", d.target());
        assertEquals("emulated", d.backend());
        assertEquals("loop", d.program());
        assertEquals("jit", d.engine(), "which engine runs the program");
        assertEquals(2, d.counters().size());
        var q = d.counters().getFirst();
        assertEquals(15, q.ios());
        assertEquals(15 * 4096, q.bytes());
        assertEquals(12, q.bpfHandled());
        assertEquals(3, q.redirected());
        assertEquals(3, q.errors());
        assertEquals(15, q.progRuns());
        assertEquals(new LatencyHistogram(new long[]{LatencySnapshot.bucketUpperBound(LatencySnapshot.bucketOf(1000)),
                LatencySnapshot.bucketUpperBound(LatencySnapshot.bucketOf(2000))}, new long[]{10, 5}), q.latency());
        assertEquals(LatencyHistogram.EMPTY, d.counters().get(1).latency());
    }

    @Test
    void p99IsOverTheLastIntervalNotSinceTheStart() {
        var rec = record(0, TargetType.NULL, 1, null);
        // 1000 slow I/Os, then 1000 fast ones: since the start p99 is slow, over the last second fast
        var slow = latency(new long[]{100_000}, new long[]{1000});
        var both = latency(new long[]{100_000, 1000}, new long[]{1000, 1000});
        var s1 = stats(0, 0, queue(0, 1000, 0, Map.of(), slow));
        var s2 = stats(0, 1_000_000_000L, queue(0, 2000, 0, Map.of(), both));
        assertTrue(s2.queues().getFirst().latency().p99Ns() >= 100_000, "the daemon's own p99 is since the start");
        var calc = new RateCalculator(60, 10);
        calc.update(new MonitorSnapshot(0, SourceState.CONNECTED, null, List.of(Views.device(rec, s1, null))));
        var row = calc.update(new MonitorSnapshot(1_000_000_000L, SourceState.CONNECTED, null,
                List.of(Views.device(rec, s2, null)))).row(0).orElseThrow();
        int fast = LatencySnapshot.bucketOf(1000);
        double lo = LatencySnapshot.bucketLowerBound(fast), hi = LatencySnapshot.bucketUpperBound(fast);
        assertEquals(1000, row.total().iops(), 1e-9);
        for (double p99 : new double[]{row.queues().getFirst().p99Nanos(), row.total().p99Nanos()}) {
            assertTrue(p99 >= lo && p99 <= hi, "p99 " + p99 + " inside the fast I/Os' bucket [" + lo + ", " + hi + "]");
        }
    }

    @Test
    void decodesTheDaemonsMapDumpsIntoNamedFields() throws Exception {
        var info = wire(new MapView("qstats", "percpu_array", 4, 64, 1, 1, true), MapView.class);
        // map.dump as the daemon writes it: BTF-formatted values, per-cpu maps with one value per queue
        var M = Json.mapper();
        List<MapView.Entry> dump = List.of(
                new MapView.Entry(M.readTree("0"), M.readTree("{\"ios\":12,\"hist\":[1,2]}"), null),
                new MapView.Entry(M.readTree("{\"queue\":1}"), null,
                        List.of(new MapView.CpuValue(0, M.readTree("{\"ios\":3}")), new MapView.CpuValue(1, M.readTree("{\"ios\":4}")))));
        dump = List.of(M.readValue(M.writeValueAsBytes(dump), MapView.Entry[].class));
        var m = Views.map(info, dump);
        assertEquals("qstats", m.name());
        assertEquals(1, m.maxEntries());
        assertEquals(List.of(new MapEntry("0", "{ios=12, hist=[1, 2]}"), new MapEntry("{queue=1}", "{ios=7}", List.of("{ios=3}", "{ios=4}"))), m.entries(),
                "a per-cpu map's value is every cpu's summed; each cpu's is kept");
        assertFalse(M.writeValueAsString(dump.getFirst()).contains("values"), "a plain map's entry has no per-cpu values");
    }
}
