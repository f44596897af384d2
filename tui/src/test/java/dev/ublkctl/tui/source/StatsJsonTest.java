package dev.ublkctl.tui.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ublkctl.tui.model.LatencyHistogram;
import dev.ublkctl.tui.model.MapEntry;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class StatsJsonTest {
    private static final ObjectMapper M = new ObjectMapper();

    static JsonNode json(String s) {
        try {
            return M.readTree(s.replace('\'', '"'));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void readsEngineShapedQueueStats() {
        JsonNode rec = json("{'id':3,'state':'live','target':'loop','backend':'emulated','queues':2,'depth':64,"
                + "'size':1048576,'program':'loop','engine':'jit'}");
        JsonNode stats = json("{'devId':3,'queues':[{'queue':0,'ops':{'READ':{'ios':10,'bytes':40960},'WRITE':{'ios':5,'bytes':20480}},"
                + "'bpfHandled':12,'redirected':3,'splitParts':2,'errors':{'5':1,'28':2},'inFlight':4,"
                + "'latency':{'buckets':[{'le':1000,'count':10},{'le':2000,'count':5},{'le':4000,'count':0}]},"
                + "'progRuns':17,'progRunNanos':1700},{'queue':1,'ios':7,'bytes':7,'errors':0}]}");
        var d = StatsJson.device(rec, stats, null);
        assertEquals(3, d.id());
        assertEquals("loop", d.target());
        assertEquals(64, d.depth());
        assertEquals("loop", d.program());
        assertEquals("jit", d.engine(), "which engine runs the program");
        assertEquals(2, d.counters().size());
        var q = d.counters().get(0);
        assertEquals(15, q.ios());
        assertEquals(61440, q.bytes());
        assertEquals(12, q.bpfHandled());
        assertEquals(3, q.redirected());
        assertEquals(2, q.splitParts());
        assertEquals(3, q.errors());
        assertEquals(4, q.inFlight());
        assertEquals(17, q.progRuns());
        assertEquals(new LatencyHistogram(new long[]{1000, 2000}, new long[]{10, 5}), q.latency());
        assertEquals(7, d.counters().get(1).ios());
        assertEquals(LatencyHistogram.EMPTY, d.counters().get(1).latency());
    }

    @Test
    void readsTheDaemonsFlatStatsWithPercentilesAndUsesTheirP99() {
        JsonNode rec = json("{'id':0,'state':'live','target':'null','backend':'emulated','queues':1,'depth':8,'size':4096}");
        String q = "{'id':0,'takenNanos':5,'total':{},'queues':[{'queue':0,'ios':%d,'bytes':%d,'reads':0,'bpfHandled':0,"
                + "'redirected':%d,'splitParts':0,'errors':1,'errorsByErrno':{'5':1},'inFlight':1,"
                + "'latency':{'count':%d,'minNs':1,'meanNs':2,'p50Ns':3,'p99Ns':%d,'p999Ns':5,'maxNs':6},'progRuns':0,'progRunNanos':0}]}";
        var d1 = StatsJson.device(rec, json(q.formatted(10, 40960, 10, 10, 7000)), null);
        var c = d1.counters().getFirst();
        assertEquals(10, c.ios());
        assertEquals(1, c.errors());
        assertEquals(LatencyHistogram.EMPTY, c.latency());
        assertEquals(7000, c.p99SinceStart());
        var d2 = StatsJson.device(rec, json(q.formatted(30, 122880, 30, 30, 9000)), null);
        var calc = new dev.ublkctl.tui.metrics.RateCalculator(60, 10);
        calc.update(new dev.ublkctl.tui.model.MonitorSnapshot(0, dev.ublkctl.tui.model.SourceState.CONNECTED, null, List.of(d1)));
        var row = calc.update(new dev.ublkctl.tui.model.MonitorSnapshot(1_000_000_000L, dev.ublkctl.tui.model.SourceState.CONNECTED,
                null, List.of(d2))).row(0).orElseThrow();
        assertEquals(20, row.total().iops(), 1e-9);
        assertEquals(0, row.total().bpfShare(), 1e-9, "all redirected: no program");
        assertEquals(9000, row.queues().getFirst().p99Nanos(), 1e-9);
        assertEquals(9000, row.total().p99Nanos(), 1e-9);
    }

    @Test
    void readsParallelArrayHistogramsAndRejectsShapelessStats() {
        var h = StatsJson.latency(json("{'upperBounds':[10,20,30],'buckets':[1,0,2]}"));
        assertEquals(new LatencyHistogram(new long[]{10, 30}, new long[]{1, 2}), h);
        assertEquals(LatencyHistogram.EMPTY, StatsJson.latency(json("{'count':3}")));
        assertThrows(IllegalArgumentException.class, () -> StatsJson.queues(json("{'total':{}}")));
    }

    @Test
    void decodesBtfFormattedMapEntriesIntoNamedFields() {
        var info = json("{'name':'stats','type':'array','maxEntries':4}");
        var dump = json("[{'key':0,'value':{'ios':12,'bytes':4096,'hist':[1,2]}},"
                + "{'formatted':{'key':{'queue':1},'value':{'ios':3,'bytes':0,'hist':[0,0]}}}]");
        var m = StatsJson.map(info, dump);
        assertEquals("stats", m.name());
        assertEquals(4, m.maxEntries());
        assertEquals(List.of(new MapEntry("0", "{ios=12, bytes=4096, hist=[1, 2]}"),
                new MapEntry("{queue=1}", "{ios=3, bytes=0, hist=[0, 0]}")), m.entries());
        assertEquals(1, StatsJson.map(info, json("{'entries':[{'key':1,'value':2}]}")).entries().size());
    }
}
