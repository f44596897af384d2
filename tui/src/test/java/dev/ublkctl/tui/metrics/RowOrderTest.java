package dev.ublkctl.tui.metrics;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.ublkctl.tui.testing.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

class RowOrderTest {

    /** Rows for devices 1 (null, 1000/s), 2 (loop, 3000/s), 10 (stripe, no rates yet). */
    private static List<DeviceRow> rows() {
        var calc = new RateCalculator(60, 100);
        calc.update(snap(0, device(1, "null", "null", 1, 0, 100), device(2, "loop", "loop", 1, 0, 50)));
        return calc.update(snap(SEC, device(1, "null", "null", 1, 1000, 100), device(2, "loop", "loop", 1, 3000, 50),
                device(10, "stripe", null, 1, 0, 0))).rows();
    }

    private static List<Integer> ids(List<DeviceRow> rs) { return rs.stream().map(DeviceRow::id).toList(); }

    @Test
    void sortsByAnyColumnWithUnknownNumbersLast() {
        var rows = rows();
        assertEquals(List.of(1, 2, 10), ids(RowOrder.DEFAULT.apply(rows)));
        RowOrder byIops = RowOrder.DEFAULT.sortedBy(Column.IOPS);
        assertTrue(byIops.descending(), "busiest first");
        assertEquals(List.of(2, 1, 10), ids(byIops.apply(rows)));
        assertEquals(List.of(1, 2, 10), ids(byIops.reversed().apply(rows)), "NaN stays last when reversed");
        assertEquals(List.of(2, 1, 10), ids(RowOrder.DEFAULT.sortedBy(Column.TARGET).apply(rows)));
        assertEquals(List.of(1, 2, 10), ids(RowOrder.DEFAULT.sortedBy(Column.BPF).apply(rows)));
        assertEquals(List.of(2, 1, 10), ids(RowOrder.DEFAULT.sortedBy(Column.REDIRECT).apply(rows)));
    }

    @Test
    void nextColumnCyclesThroughAllColumns() {
        RowOrder o = RowOrder.DEFAULT;
        for (int i = 0; i < Column.values().length; i++) o = o.nextColumn();
        assertEquals(Column.ID, o.column());
        assertEquals(Column.TARGET, RowOrder.DEFAULT.nextColumn().column());
        var rows = rows();
        RowOrder k = RowOrder.DEFAULT;
        for (Column c : Column.values()) { // every column sorts without error
            assertEquals(3, k.sortedBy(c).apply(rows).size());
            assertEquals(3, k.sortedBy(c).reversed().apply(rows).size());
        }
    }

    @Test
    void filterMatchesWordsAcrossFieldsAndKeyValue() {
        var rows = rows();
        assertEquals(List.of(2), ids(RowOrder.DEFAULT.filtered("loop").apply(rows)));
        assertEquals(List.of(1, 2, 10), ids(RowOrder.DEFAULT.filtered("EMUL").apply(rows)));
        assertEquals(List.of(1), ids(RowOrder.DEFAULT.filtered("1").apply(rows)), "ids match whole");
        assertEquals(List.of(10), ids(RowOrder.DEFAULT.filtered("ublkb10").apply(rows)));
        assertEquals(List.of(10), ids(RowOrder.DEFAULT.filtered("new").apply(rows)));
        assertEquals(List.of(1), ids(RowOrder.DEFAULT.filtered("program=null").apply(rows)));
        assertEquals(List.of(), ids(RowOrder.DEFAULT.filtered("target=emulated").apply(rows)));
        assertEquals(List.of(2), ids(RowOrder.DEFAULT.filtered("loop emulated").apply(rows)), "all words must match");
        assertEquals(List.of(1, 2, 10), ids(RowOrder.DEFAULT.filtered("  ").apply(rows)));
    }
}
