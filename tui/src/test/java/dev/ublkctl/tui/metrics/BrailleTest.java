package dev.ublkctl.tui.metrics;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BrailleTest {
    private static final double N = Double.NaN;

    @Test
    void twoColumnsAndFourLevelsPerCell() {
        // one cell, one row: left column 2 dots high, right column full
        var p = Braille.area(new double[]{2, 4}, 1, 1, 4);
        // left: rows 2,3 (0x04, 0x40); right: all four (0x08 0x10 0x20 0x80)
        assertEquals(String.valueOf((char) (0x2800 | 0x04 | 0x40 | 0x08 | 0x10 | 0x20 | 0x80)), p.rows()[0]);
    }

    @Test
    void fillsFromTheBottomAcrossRowsAndLeavesGapsBlank() {
        var p = Braille.area(new double[]{8, N, 1, 0}, 2, 2, 8);
        // column 0 full in both rows; column 1 (NaN) empty; column 2 one dot at the very bottom; column 3 zero
        assertEquals("⡇⠀", p.rows()[0]);
        assertEquals("⡇⡀", p.rows()[1]);
    }

    @Test
    void aPositiveValueNeverVanishesAndBigOnesClip() {
        assertEquals(1, Braille.dots(0.0001, 100, 3));
        assertEquals(12, Braille.dots(1e9, 100, 3));
        assertEquals(0, Braille.dots(0, 100, 3));
        assertEquals(0, Braille.dots(N, 100, 3));
    }

    @Test
    void stackedMarksTheCellsTheUpperLayerCovers() {
        // 25% lower, 75% upper, over 2 rows (8 dots): lower 2 dots, upper to the top
        var p = Braille.stacked(new double[]{0.25, 0.25}, new double[]{0.75, 0.75}, 1, 2, 1);
        assertEquals("⣿", p.rows()[0]);
        assertEquals("⣿", p.rows()[1]);
        assertTrue(p.upper()[0][0], "top row all upper");
        assertFalse(p.upper()[1][0], "bottom row half and half: not mostly upper");
        var q = Braille.stacked(new double[]{0.99, 0.99}, new double[]{0.01, 0.01}, 1, 1, 1);
        assertEquals("⣿", q.rows()[0], "a thin upper layer still gets a dot");
    }

    @Test
    void sparklineIsOneRow() {
        String s = Braille.sparkline(new double[]{0, 1, 2, 3, 4, 4}, 3, 4);
        assertEquals(3, s.length());
        assertArrayEquals(new char[]{'⢀', '⣴', '⣿'}, s.toCharArray());
    }
}
