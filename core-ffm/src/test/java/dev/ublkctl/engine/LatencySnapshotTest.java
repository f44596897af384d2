package dev.ublkctl.engine;

import dev.ublkctl.engine.stats.LatencyRecorder;
import dev.ublkctl.engine.stats.LatencySnapshot;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class LatencySnapshotTest {
    @Property
    void everyValueFallsInsideItsBucket(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE / 2) long v) {
        int b = LatencySnapshot.bucketOf(v);
        assertTrue(b >= 0 && b < LatencySnapshot.BUCKETS);
        assertTrue(LatencySnapshot.bucketLowerBound(b) <= v && v <= LatencySnapshot.bucketUpperBound(b), v + " in bucket " + b);
        // relative width at most 1/16
        long lo = LatencySnapshot.bucketLowerBound(b), hi = LatencySnapshot.bucketUpperBound(b);
        assertTrue(hi - lo <= Math.max(0, lo / 16), "bucket " + b + " [" + lo + ", " + hi + "]");
    }

    @Property(tries = 200)
    void percentilesAreWithinOneBucketOfTheExactValue(@ForAll @Size(min = 1, max = 500) List<@LongRange(min = 0, max = 10_000_000_000L) Long> values) {
        LatencyRecorder r = new LatencyRecorder();
        for (long v : values) r.record(v);
        LatencySnapshot s = r.snapshot();
        long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
        assertEquals(sorted.length, s.count());
        assertEquals(sorted[0], s.minNanos());
        assertEquals(sorted[sorted.length - 1], s.maxNanos());
        for (double p : new double[]{50, 99, 99.9, 100}) {
            long exact = sorted[(int) Math.max(0, Math.ceil(p / 100 * sorted.length) - 1)];
            long got = s.percentile(p);
            assertTrue(got >= exact && got <= LatencySnapshot.bucketUpperBound(LatencySnapshot.bucketOf(exact)),
                    "p" + p + ": exact " + exact + ", histogram " + got + " of " + Arrays.toString(sorted));
        }
    }

    @Property(tries = 100)
    void minusUndoesPlus(@ForAll @Size(max = 100) List<@LongRange(min = 0, max = 1_000_000) Long> a,
                         @ForAll @Size(max = 100) List<@LongRange(min = 0, max = 1_000_000) Long> b) {
        LatencyRecorder ra = new LatencyRecorder(), rab = new LatencyRecorder();
        for (long v : a) { ra.record(v); rab.record(v); }
        LatencySnapshot before = rab.snapshot();
        for (long v : b) rab.record(v);
        LatencySnapshot delta = rab.snapshot().minus(before);
        assertEquals(b.size(), delta.count());
        assertArrayEquals(rab.snapshot().buckets(), ra.snapshot().plus(delta).buckets());
    }

    /** Summing many histograms in one pass gives what adding them two by two gives; bucket(i) reads without a copy. */
    @Property(tries = 50)
    void sumEqualsPairwisePlus(@ForAll @Size(max = 6) List<@Size(max = 20) List<@LongRange(min = 0, max = 10_000_000_000L) Long>> parts) {
        List<LatencySnapshot> snaps = new java.util.ArrayList<>();
        LatencySnapshot pairwise = LatencySnapshot.empty();
        for (List<Long> vs : parts) {
            var r = new LatencyRecorder();
            for (long v : vs) r.record(v);
            snaps.add(r.snapshot());
            pairwise = pairwise.plus(snaps.getLast());
        }
        LatencySnapshot sum = LatencySnapshot.sum(snaps);
        assertEquals(pairwise, sum);
        assertEquals(pairwise.minNanos(), sum.minNanos());
        assertEquals(pairwise.maxNanos(), sum.maxNanos());
        long[] b = sum.buckets();
        for (int i = 0; i < b.length; i++) assertEquals(b[i], sum.bucket(i));
    }
}
