package dev.ublkctl.tui.metrics;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class UnitsTest {
    @Test
    void counts() {
        assertEquals("-", Units.count(Double.NaN));
        assertEquals("0", Units.count(0));
        assertEquals("2.5", Units.count(2.5));
        assertEquals("950", Units.count(950));
        assertEquals("1.00k", Units.count(999.6));
        assertEquals("12.3k", Units.count(12_345));
        assertEquals("123k", Units.count(123_456));
        assertEquals("4.57M", Units.count(4_567_000));
    }

    @Test
    void bytesNanosPercent() {
        assertEquals("512B", Units.bytes(512));
        assertEquals("4K", Units.bytes(4096));
        assertEquals("1.5G", Units.bytes(3L << 29));
        assertEquals("250G", Units.bytes(250L << 30));
        assertEquals("850ns", Units.nanos(850));
        assertEquals("12.3us", Units.nanos(12_345));
        assertEquals("4.50ms", Units.nanos(4_500_000));
        assertEquals("1.20s", Units.nanos(1.2e9));
        assertEquals("80%", Units.percent(0.8));
        assertEquals("-", Units.percent(Double.NaN));
        assertEquals("12.3", Units.mbps(12.34));
    }

    @Test
    void fitPadsAndCuts() {
        assertEquals("  ab", Column.fit("ab", 4, true));
        assertEquals("ab  ", Column.fit("ab", 4, false));
        assertEquals("abc~", Column.fit("abcdef", 4, false));
    }
}
