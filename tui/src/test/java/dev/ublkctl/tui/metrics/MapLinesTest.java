package dev.ublkctl.tui.metrics;

import dev.ublkctl.tui.model.MapEntry;
import dev.ublkctl.tui.model.MapSnapshot;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MapLinesTest {
    @Test
    void zeroValues() {
        assertTrue(MapLines.isZero("0"));
        assertTrue(MapLines.isZero("{queued=0, redirected=0, hist=[0, 0]}"));
        assertTrue(MapLines.isZero("hex:00 00 00 00"));
        assertFalse(MapLines.isZero("{queued=10, redirected=0}"));
        assertFalse(MapLines.isZero("{a1=0, b=0.5}"));
        assertFalse(MapLines.isZero("{a1=0, b=3}"));
        assertTrue(MapLines.isZero("{a1=0, b2=0}"), "digits in field names are not values");
        assertFalse(MapLines.isZero("hex:00 01"));
        assertFalse(MapLines.isZero("loop.img"), "no number: not an empty slot");
    }

    @Test
    void foldsZerosSortsHashMapsMarksChangesAndExpandsPerCpu() {
        var arr = new MapSnapshot("qstats", "array", 64, List.of(new MapEntry("0", "{ios=5}"), new MapEntry("1", "{ios=0}"),
                new MapEntry("2", "{ios=0}")), null);
        var hash = new MapSnapshot("bounce", "hash", 1024, List.of(new MapEntry("300", "1"), new MapEntry("20", "2"),
                new MapEntry("1000", "3")), null);
        var pcpu = new MapSnapshot("pc", "percpu_array", 1, List.of(new MapEntry("0", "{n=7}", List.of("{n=3}", "{n=4}"))), null);
        var lines = MapLines.of(List.of(arr, hash, pcpu), Map.of("bounce", Set.of("20")), false, false);
        List<String> text = lines.stream().map(MapLines.Line::text).toList();
        assertEquals(List.of(
                "▸ qstats  array  3/64 entries",
                "    … 2 zero entries folded (z shows them)",
                "    0 → {ios=5}",
                "▸ bounce  hash  3/1024 entries",
                "    20 → 2", "    300 → 1", "    1000 → 3",
                "▸ pc  percpu_array  1/1 entries  (summed over cpus)",
                "    0 → {n=7}"), text);
        assertEquals(MapLines.Kind.CHANGED, lines.get(4).kind());
        assertEquals(MapLines.Kind.ENTRY, lines.get(5).kind());

        var all = MapLines.of(List.of(arr, pcpu), Map.of(), true, true).stream().map(MapLines.Line::text).toList();
        assertTrue(all.contains("    2 → {ios=0}"), all.toString());
        assertTrue(all.contains("        cpu1 → {n=4}"), all.toString());
        assertTrue(all.contains("▸ pc  percpu_array  1/1 entries  (per cpu)"), all.toString());
    }

    @Test
    void changesBetweenTwoReads() {
        var a = List.of(new MapSnapshot("m", "array", 4, List.of(new MapEntry("0", "1"), new MapEntry("1", "2")), null));
        var b = List.of(new MapSnapshot("m", "array", 4, List.of(new MapEntry("0", "1"), new MapEntry("1", "3"),
                new MapEntry("2", "9")), null), new MapSnapshot("new", "array", 1, List.of(new MapEntry("0", "1")), null));
        assertEquals(Map.of("m", Set.of("1", "2")), MapLines.changes(a, b));
        assertEquals(Map.of(), MapLines.changes(b, b));
    }
}
