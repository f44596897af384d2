package dev.ublkctl.tui.source;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.daemon.DeviceRecord;
import dev.ublkctl.daemon.MapView;
import dev.ublkctl.daemon.StatsView;
import dev.ublkctl.tui.model.DeviceSnapshot;
import dev.ublkctl.tui.model.LatencyHistogram;
import dev.ublkctl.tui.model.MapEntry;
import dev.ublkctl.tui.model.MapSnapshot;
import dev.ublkctl.tui.model.QueueCounters;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The daemon's answers (the records its client reads) as the monitor's model. The latency of a
 * queue is the daemon's histogram, so the monitor takes its P99 over the last interval from
 * two snapshots' buckets, not the daemon's since-start percentile.
 */
public final class Views {
    private Views() {}

    /** A device record plus its stats, or the error that kept them from being read. */
    public static DeviceSnapshot device(DeviceRecord rec, StatsView stats, String statsError) {
        List<QueueCounters> qs = new ArrayList<>();
        if (stats != null) for (StatsView.Queue q : stats.queues()) qs.add(queue(q));
        return new DeviceSnapshot(rec.id(), name(rec.target()), name(rec.backend()), rec.state(), rec.queues(), rec.depth(),
                rec.size(), rec.program(), qs, List.of(), statsError, rec.engine(),
                stats == null || stats.total() == null ? null : queue(stats.total()));
    }

    static QueueCounters queue(StatsView.Queue q) {
        return new QueueCounters(q.queue(), q.ios(), q.bytes(), q.bpfHandled(), q.redirected(), q.splitParts(), q.errors(),
                q.inFlight(), latency(q.latency()), q.progRuns(), q.progRunNanos());
    }

    static LatencyHistogram latency(StatsView.Latency l) {
        if (l == null || l.buckets().isEmpty()) return LatencyHistogram.EMPTY;
        long[] ub = new long[l.buckets().size()], cs = new long[ub.length];
        for (int i = 0; i < ub.length; i++) {
            ub[i] = l.buckets().get(i).le();
            cs[i] = l.buckets().get(i).count();
        }
        return new LatencyHistogram(ub, cs);
    }

    /** One map with its entries ({@code map.list} + {@code map.dump}). */
    public static MapSnapshot map(MapView info, List<MapView.Entry> dump) {
        List<MapEntry> entries = new ArrayList<>();
        for (MapView.Entry e : dump) {
            if (e.value() != null || e.values() == null || e.values().isEmpty()) {
                entries.add(new MapEntry(fields(e.key()), fields(e.value())));
                continue;
            }
            // a per-cpu map: the value shown is every cpu's summed, field by field; each cpu's kept for expanding
            List<String> cpus = new ArrayList<>();
            JsonNode sum = null;
            for (var c : e.values()) {
                cpus.add(fields(c.value()));
                sum = sum == null ? c.value() : sum(sum, c.value());
            }
            entries.add(new MapEntry(fields(e.key()), fields(sum), cpus));
        }
        return new MapSnapshot(info.name(), info.type(), info.maxEntries(), entries, null);
    }

    /**
     * Two decoded values added: numbers summed, objects field by field, arrays element by element;
     * anything else (text, hex) keeps the first, as a sum of it means nothing.
     */
    static JsonNode sum(JsonNode a, JsonNode b) {
        if (a == null || b == null) return a == null ? b : a;
        if (a.isIntegralNumber() && b.isIntegralNumber())
            return com.fasterxml.jackson.databind.node.BigIntegerNode.valueOf(a.bigIntegerValue().add(b.bigIntegerValue()));
        if (a.isNumber() && b.isNumber()) return com.fasterxml.jackson.databind.node.DoubleNode.valueOf(a.doubleValue() + b.doubleValue());
        if (a.isObject() && b.isObject()) {
            var out = dev.ublkctl.daemon.Json.mapper().createObjectNode();
            for (var it = a.properties().iterator(); it.hasNext(); ) {
                var f = it.next();
                out.set(f.getKey(), sum(f.getValue(), b.get(f.getKey())));
            }
            return out;
        }
        if (a.isArray() && b.isArray() && a.size() == b.size()) {
            var out = dev.ublkctl.daemon.Json.mapper().createArrayNode();
            for (int i = 0; i < a.size(); i++) out.add(sum(a.get(i), b.get(i)));
            return out;
        }
        return a;
    }

    /** A decoded BTF value as short text: structs as {@code {a=1, b=2}}, arrays as {@code [1, 2]}. */
    public static String fields(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) return "-";
        if (v.isObject()) {
            StringBuilder sb = new StringBuilder("{");
            for (Iterator<Map.Entry<String, JsonNode>> it = v.properties().iterator(); it.hasNext(); ) {
                var e = it.next();
                sb.append(e.getKey()).append('=').append(fields(e.getValue()));
                if (it.hasNext()) sb.append(", ");
            }
            return sb.append('}').toString();
        }
        if (v.isArray()) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < v.size(); i++) {
                if (i > 0) sb.append(", ");
                sb.append(fields(v.get(i)));
            }
            return sb.append(']').toString();
        }
        return v.asText();
    }

    private static String name(Object o) { return o == null ? null : o.toString(); }
}
