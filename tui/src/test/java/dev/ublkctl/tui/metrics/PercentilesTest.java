package dev.ublkctl.tui.metrics;

import dev.ublkctl.tui.model.LatencyHistogram;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class PercentilesTest {

    @Test
    void interpolatesInsideTheBucketHoldingTheRank() {
        // 90 I/Os in (0, 100], 10 in (100, 1000]
        var h = new LatencyHistogram(new long[]{100, 1000}, new long[]{90, 10});
        assertEquals(100 * 50 / 90.0, Percentiles.of(h, 50), 1e-9); // rank 50 of 90 in the first bucket
        assertEquals(100, Percentiles.of(h, 90), 1e-9);      // rank 90: the first bucket's top
        assertEquals(100 + 900 * 9 / 10.0, Percentiles.of(h, 99), 1e-9); // rank 99: 9th of 10 in the second
        assertEquals(1000, Percentiles.of(h, 100), 1e-9);
    }

    @Test
    void skipsEmptyBucketsAndHandlesEmptyHistograms() {
        var h = new LatencyHistogram(new long[]{10, 20, 40}, new long[]{0, 0, 4});
        assertEquals(20 + 20 * 0.25, Percentiles.of(h, 1), 1e-9);
        assertTrue(Double.isNaN(Percentiles.of(LatencyHistogram.EMPTY, 99)));
        assertTrue(Double.isNaN(Percentiles.of(null, 99)));
        assertThrows(IllegalArgumentException.class, () -> Percentiles.of(h, 0));
        assertThrows(IllegalArgumentException.class, () -> Percentiles.of(h, 101));
    }

    @Test
    void histogramDifferenceMatchesBucketsAndDetectsResets() {
        var a = new LatencyHistogram(new long[]{10, 20}, new long[]{5, 1});
        var b = new LatencyHistogram(new long[]{10, 20, 40}, new long[]{7, 1, 3});
        assertEquals(new LatencyHistogram(new long[]{10, 20, 40}, new long[]{2, 0, 3}), b.minus(a));
        assertNull(a.minus(b), "a bucket that went down means the counters restarted");
        assertThrows(IllegalArgumentException.class, () -> new LatencyHistogram(new long[]{20, 10}, new long[]{1, 1}));
        assertEquals(new LatencyHistogram(new long[]{10, 20, 40}, new long[]{12, 2, 3}),
                LatencyHistogram.sum(java.util.List.of(a, b)));
    }
}
