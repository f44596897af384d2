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
                + "'size':1048576,'program':'loop'}");
        JsonNode stats = json("{'devId':3,'queues':[{'queue':0,'ops':{'READ':{'ios':10,'bytes':40960},'WRITE':{'ios':5,'bytes':20480}},"
                + "'bpfHandled':12,'redirected':3,'splitParts':2,'errors':{'5':1,'28':2},'inFlight':4,"
                + "'latency':{'buckets':[{'le':1000,'count':10},{'le':2000,'count':5},{'le':4000,'count':0}]},"
                + "'progRuns':17,'progRunNanos':1700},{'queue':1,'ios':7,'bytes':7,'errors':0}]}");
        var d = StatsJson.device(rec, stats, null);
        assertEquals(3, d.id());
        assertEquals("loop", d.target());
        assertEquals(64, d.depth());
        assertEquals("loop", d.program());
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
