package dev.ublkctl.daemon;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The daemon log's bounds: repeated lines counted, not written; the file rotated at its cap. */
class DaemonLogTest {

    /** A clock the test moves. */
    static final class StepClock extends Clock {
        long ms = 1_000_000;
        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId z) { return this; }
        @Override public Instant instant() { return Instant.ofEpochMilli(ms); }
        @Override public long millis() { return ms; }
    }

    static final class MemorySink implements DaemonLog.Sink {
        final List<String> lines = new ArrayList<>();
        long size;
        int rotations;
        @Override public void write(String line) { lines.add(line); size += line.length() + 1; }
        @Override public long size() { return size; }
        @Override public void rotate() { rotations++; size = 0; }
    }

    @Test
    void aFaultOnEveryIoIsWrittenABurstThenCounted() {
        var clock = new StepClock();
        var sink = new MemorySink();
        var log = new DaemonLog(sink, clock);
        // what a program that faults on every I/O produces: the same line with other tags and addresses
        for (int i = 0; i < 100_000; i++)
            log.accept("warning: device 0 queue 1 tag " + (i % 128) + ": fault at insn 7: address 0x" + Integer.toHexString(i * 8));
        assertEquals(DaemonLog.BURST, sink.lines.size(), "only the burst is written: " + sink.lines);
        assertEquals(100_000 - DaemonLog.BURST, log.suppressed());
        // another kind of message is not held back by the first
        log.accept("added device 3: loop");
        assertEquals(DaemonLog.BURST + 1, sink.lines.size());
        // when the window ends the count is written, with the last line
        clock.ms += DaemonLog.WINDOW_MS;
        log.tick();
        String summary = sink.lines.getLast();
        assertTrue(summary.contains((100_000 - DaemonLog.BURST) + " more like this"), summary);
        assertTrue(summary.contains("tag 31"), summary);
        // and a new window writes a burst again
        log.accept("warning: device 0 queue 1 tag 5: fault at insn 7: address 0x10");
        assertTrue(sink.lines.getLast().endsWith("address 0x10"));
    }

    @Test
    void manyDifferentShapesStayBounded() {
        var sink = new MemorySink();
        var log = new DaemonLog(sink, new StepClock());
        for (int i = 0; i < 10 * DaemonLog.MAX_SHAPES; i++) log.accept("request failed: method m" + Integer.toString(i, 36).replaceAll("[0-9]", "z") + "q");
        assertTrue(sink.lines.size() <= 10 * DaemonLog.MAX_SHAPES);
    }

    @Test
    void theFileIsRotatedAtItsCap() {
        var sink = new MemorySink();
        var log = new DaemonLog(sink, new StepClock());
        String big = "x".repeat(4096);
        // distinct shapes (letters, not numbers) so the limiter lets them all through
        for (int i = 0; i < (DaemonLog.MAX_BYTES / 4096) * 3; i++)
            log.accept(Integer.toString(i, 26).chars().mapToObj(c -> String.valueOf((char) ('a' + Character.digit(c, 26)))).reduce("", String::concat)
                    + " " + big);
        assertTrue(sink.rotations >= 2, "rotated " + sink.rotations + " times");
        assertTrue(sink.size <= DaemonLog.MAX_BYTES + 8192, "current file within its cap: " + sink.size);
    }

    @Test
    void numbersAreWhatVaries() {
        assertEquals(DaemonLog.shapeOf("device 12 tag 0x7f at 3"), DaemonLog.shapeOf("device 3 tag 0xab at 99"));
        assertNotEquals(DaemonLog.shapeOf("device 1 added"), DaemonLog.shapeOf("device 1 deleted"));
    }
}
