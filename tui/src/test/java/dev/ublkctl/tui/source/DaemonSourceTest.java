package dev.ublkctl.tui.source;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.tui.model.SourceState;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.ublkctl.tui.source.StatsJsonTest.json;
import static org.junit.jupiter.api.Assertions.*;

class DaemonSourceTest {

    /** A daemon with devices 0 and 1; device 1's stats fail (deleted meanwhile); can die. */
    static final class FakeCalls implements DaemonCalls {
        final AtomicBoolean dead;
        final AtomicInteger mapDumps = new AtomicInteger();
        FakeCalls(AtomicBoolean dead) { this.dead = dead; }
        private void check() { if (dead.get()) throw new Unreachable("connection reset by peer"); }
        @Override public List<JsonNode> devices() {
            check();
            return List.of(json("{'id':0,'state':'live','target':'null','backend':'emulated','queues':1,'depth':8,'size':4096,'program':'null'}"),
                    json("{'id':1,'state':'live','target':'loop','backend':'emulated','queues':1,'depth':8,'size':4096}"));
        }
        @Override public JsonNode stats(int id) {
            check();
            if (id == 1) throw new IllegalStateException("no device 1");
            return json("{'queues':[{'queue':0,'ios':5,'bytes':20480}]}");
        }
        @Override public JsonNode maps(int id) { check(); return json("[{'name':'stats','type':'array','maxEntries':1}]"); }
        @Override public JsonNode dumpMap(int id, String name) {
            check();
            mapDumps.incrementAndGet();
            return json("[{'key':0,'value':{'ios':5}}]");
        }
        @Override public String describe() { return "fake daemon"; }
        @Override public void close() { }
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
