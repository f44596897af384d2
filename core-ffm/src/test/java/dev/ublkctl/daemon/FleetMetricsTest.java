package dev.ublkctl.daemon;

import dev.ublkctl.engine.stats.LatencyRecorder;
import dev.ublkctl.engine.stats.LatencySnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FleetMetricsTest {

    /** Every recorded value is counted in the first Prometheus bucket at or above it, never below. */
    @Test
    void engineBucketsFoldIntoBoundsWithoutUndercounting() {
        long[] values = {0, 999, 1000, 1001, 2_400, 2_600, 49_000, 51_000, 999_999, 3_000_000, 20_000_000_000L};
        var rec = new LatencyRecorder();
        for (long v : values) rec.record(v);
        LatencySnapshot l = rec.snapshot();
        StatsView.Latency lat = StatsView.Latency.of(l);   // the daemon's own mapping of the engine's snapshot
        HistogramSnapshot.HistogramDataPointSnapshot h = FleetMetrics.histogram(lat, Labels.of("device", "0"));
        assertEquals(values.length, h.getCount());
        double sum = 0;
        for (long v : values) sum += v / 1e9;
        assertEquals(sum, h.getSum(), 1e-12);
        var b = h.getClassicBuckets();
        long cumulative = 0;
        for (int i = 0; i < b.size(); i++) {
            cumulative += b.getCount(i);
            double le = b.getUpperBound(i);
            long atOrBelow = 0;
            for (long v : values) if (v / 1e9 <= le) atOrBelow++;
            // an engine bucket straddling a bound counts above it: never more than the true count
            assertTrue(cumulative <= atOrBelow, "le=" + le + ": " + cumulative + " > " + atOrBelow);
        }
        assertEquals(values.length, cumulative);
    }

    @Test
    void boundIndexPicksTheFirstBoundAtOrAboveTheBucketsEnd() {
        assertEquals(0, FleetMetrics.boundIndex(0));
        assertEquals(0, FleetMetrics.boundIndex(1000));
        assertEquals(1, FleetMetrics.boundIndex(1001));
        assertEquals(FleetMetrics.LATENCY_BOUNDS.length - 1, FleetMetrics.boundIndex(Long.MAX_VALUE));
    }
}
