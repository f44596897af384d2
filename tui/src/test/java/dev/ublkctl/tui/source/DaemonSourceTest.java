package dev.ublkctl.tui.source;

import com.fasterxml.jackson.databind.node.IntNode;
import dev.ublkctl.daemon.Json;
import dev.ublkctl.daemon.MapView;
import dev.ublkctl.daemon.StatsView;
import dev.ublkctl.engine.stats.LatencySnapshot;
import dev.ublkctl.target.TargetType;
import dev.ublkctl.tui.model.SourceState;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.ublkctl.tui.testing.DaemonAnswers.*;
import static org.junit.jupiter.api.Assertions.*;

class DaemonSourceTest {

    /** A daemon with devices 0 and 1; device 1's stats fail (deleted meanwhile); can die. */
    static final class FakeCalls implements DaemonCalls {
        final AtomicBoolean dead;
        final AtomicInteger mapDumps = new AtomicInteger();
        FakeCalls(AtomicBoolean dead) { this.dead = dead; }
        private void check() { if (dead.get()) throw new Unreachable("connection reset by peer"); }
        @Override public List<StatsView.OfDevice> devicesWithStats() {
            check();
            return List.of(new StatsView.OfDevice(record(0, TargetType.NULL, 1, "null"),
                            stats(0, 1, queue(0, 5, 5, Map.of(), LatencySnapshot.empty())), null),
                    new StatsView.OfDevice(record(1, TargetType.LOOP, 1, null), null, "no device 1"));
        }
        @Override public List<MapView> maps(int id) { check(); return List.of(new MapView("stats", "array", 4, 8, 1, 1, false)); }
        @Override public List<MapView.Entry> dumpMap(int id, String name) {
            check();
            mapDumps.incrementAndGet();
            return List.of(new MapView.Entry(IntNode.valueOf(0), Json.mapper().createObjectNode().put("ios", 5), null));
        }
        @Override public List<String> trace(int id, int lines) {
            check();
            return List.of("kublk_loop_queue: loop: no fd for device " + id + " in fd_map").subList(0, Math.min(1, lines));
        }
        @Override public String describe() { return "fake daemon"; }
        @Override public void close() { }
    }

    @Test
    void theFocusedDeviceShowsItsProgramsLastPrintkLines() {
        var src = new DaemonSource(() -> new FakeCalls(new AtomicBoolean(false)), "/run/ublkctl");
        var s = src.poll(OptionalInt.empty());
        assertTrue(s.device(0).orElseThrow().trace().isEmpty(), "trace only for the focused device");
        s = src.poll(OptionalInt.of(0));
        assertEquals(List.of("kublk_loop_queue: loop: no fd for device 0 in fd_map"), s.device(0).orElseThrow().trace());
        src.close();
    }

    @Test
    void noDaemonThenConnectedThenLostThenBack() {
        AtomicBoolean up = new AtomicBoolean(false), dead = new AtomicBoolean(false);
        var src = new DaemonSource(() -> {
            if (!up.get()) throw new DaemonCalls.Unreachable("no daemon running");
            return new FakeCalls(dead);
        }, "/run/ublkctl");
        var s = src.poll(OptionalInt.empty());
        assertEquals(SourceState.NO_DAEMON, s.state());
        assertEquals("no daemon running", s.message());
        assertEquals("/run/ublkctl", src.describe());

        up.set(true);
        s = src.poll(OptionalInt.empty());
        assertEquals(SourceState.CONNECTED, s.state());
        assertEquals("fake daemon", src.describe());
        assertEquals(2, s.devices().size());
        assertEquals(5, s.device(0).orElseThrow().counters().getFirst().ios());
        assertTrue(s.device(0).orElseThrow().maps().isEmpty(), "maps only for the focused device");
        assertEquals("no device 1", s.device(1).orElseThrow().error());

        s = src.poll(OptionalInt.of(0));
        assertEquals(1, s.device(0).orElseThrow().maps().size());
        assertEquals("{ios=5}", s.device(0).orElseThrow().maps().getFirst().entries().getFirst().value());

        dead.set(true);
        up.set(false);
        s = src.poll(OptionalInt.empty());
        assertEquals(SourceState.LOST, s.state());
        assertTrue(s.devices().isEmpty());
        assertEquals(SourceState.LOST, src.poll(OptionalInt.empty()).state(), "still lost while it is away");

        dead.set(false);
        up.set(true);
        assertEquals(SourceState.CONNECTED, src.poll(OptionalInt.empty()).state(), "reconnects");
        src.close();
    }
}
