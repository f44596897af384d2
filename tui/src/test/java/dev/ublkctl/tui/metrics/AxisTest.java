package dev.ublkctl.tui.metrics;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AxisTest {
    @Test
    void niceTopIsOneTwoOrFiveTimesAPowerOfTen() {
        assertEquals(1, Axis.niceTop(0));
        assertEquals(1, Axis.niceTop(Double.NaN));
        assertEquals(2000, Axis.niceTop(1234));
        assertEquals(5000, Axis.niceTop(2001));
        assertEquals(10000, Axis.niceTop(5001));
        assertEquals(0.5, Axis.niceTop(0.31), 1e-12);
        assertEquals(100, Axis.niceTop(100));
    }

    @Test
    void yLabelsTopMiddleAndZero() {
        assertArrayEquals(new String[]{"  2.00k", "       ", "  1.00k", "       ", "      0"},
                Axis.yLabels(2000, 5, 7, Units::count));
        assertArrayEquals(new String[]{"   100%", "     0%"}, Axis.yLabels(1, 2, 7, Units::percent));
    }

    @Test
    void timeMarksEndWithNowAndDoNotOverlap() {
        String m = Axis.timeMarks(60, 60);
        assertEquals(60, m.length());
        assertTrue(m.endsWith("now"), m);
        assertTrue(m.contains("-30s") && m.contains("-1m"), m);
        // five minutes in a narrow chart: coarser steps, labels apart
        String w = Axis.timeMarks(300, 30);
        assertTrue(w.endsWith("now"), w);
        assertTrue(w.matches("\\s*-\\d+m\\s+-\\d+m\\s+now|\\s*-\\d+m\\s+now"), w);
        assertEquals("   ", Axis.timeMarks(60, 3));
    }
}
