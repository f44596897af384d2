package dev.ublkctl.tui.metrics;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ChartTest {

    @Test
    void columnsAverageTheSamplesOfTheirTimeSlotAndLeaveGaps() {
        // Window 10 s over 5 columns: 2 s each, ending at t=10.
        var s = new Series(new double[]{-0.5, 1, 2.5, 3, 9, 10}, new double[]{99, 4, 6, 8, Double.NaN, 10});
        double[] c = Chart.columns(s, 10, 10, 5);
        assertEquals(4, c[0], 1e-9, "t=-0.5 is before the window");
        assertEquals(7, c[1], 1e-9);
        assertTrue(Double.isNaN(c[2]));
        assertTrue(Double.isNaN(c[3]));
        assertEquals(10, c[4], 1e-9, "NaN samples are skipped");
    }

    @Test
    void renderScalesToTheMaxWithEighthBlocks() {
        String[] rows = Chart.render(new double[]{0, 1, 4, 8, Double.NaN}, 1, 8);
        assertEquals(" ▁▄█ ", rows[0]);
        String[] two = Chart.render(new double[]{16, 8, 1}, 2, 0); // auto max = 16, 16 steps
        assertEquals("█  ", two[0]);
        assertEquals("██▁", two[1]);
    }

    @Test
    void tinyPositiveValuesStayVisibleAndBigOnesAreCapped() {
        assertEquals("▁█", Chart.render(new double[]{0.001, 50}, 1, 10)[0]);
        assertEquals("", Chart.render(new double[0], 1, 1)[0]);
        assertEquals(0, Chart.render(new double[]{1}, 0, 1).length);
    }

    @Test
    void sparklineOfTheLastMinutes() {
        var s = new Series(new double[]{1, 2, 3, 4}, new double[]{1, 2, 3, 4});
        assertEquals("▂▄▆█", Chart.sparkline(s, 4, 4, 4, 0));
    }

    @Test
    void holdKeepsTheLineContinuousBetweenSparseSamplesButNotOverRealGaps() {
        // samples every 1 s, 20 columns over 10 s (0.5 s each): every other column has no sample of its own
        var s = new Series(new double[]{1, 2, 3, 4, 8, 9, 10}, new double[]{1, 2, 3, 4, 8, 9, 10});
        double[] c = Chart.columns(s, 10, 10, 20, 2.5);
        assertEquals(1, c[2], 1e-9, "t in (1, 1.5]: holds the sample at 1");
        assertEquals(4, c[8], 1e-9, "(4, 4.5]: holds 4");
        assertEquals(4, c[12], 1e-9, "(6, 6.5]: 4 is 2.5 s old, still held");
        assertTrue(Double.isNaN(c[13]), "(6.5, 7]: 3 s without a sample is a gap");
        assertTrue(Double.isNaN(c[0]), "nothing before the first sample");
        assertEquals(1, c[1], 1e-9);
        assertEquals(10, c[19], 1e-9);
    }
}
