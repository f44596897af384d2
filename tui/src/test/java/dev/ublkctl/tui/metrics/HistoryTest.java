package dev.ublkctl.tui.metrics;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class HistoryTest {
    @Test
    void keepsOnlyTheWindowAndTheCap() {
        var h = new History(10, 5);
        for (int t = 0; t <= 20; t++) h.add(t, t * 100, 0.25);
        assertEquals(5, h.size(), "capped");
        assertArrayEquals(new double[]{16, 17, 18, 19, 20}, h.iops().times());
        assertEquals(2000, h.iops().last());
        assertEquals(0.75, h.redirectShare().last(), 1e-12);
        var w = new History(3, 100);
        for (int t = 0; t <= 10; t++) w.add(t, 1, Double.NaN);
        assertArrayEquals(new double[]{7, 8, 9, 10}, w.iops().times(), "window of 3 s");
        assertTrue(Double.isNaN(w.redirectShare().last()));
        assertThrows(IllegalArgumentException.class, () -> w.add(5, 1, 1));
    }
}
