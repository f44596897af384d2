package dev.ublkctl.tui.source;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.tui.model.DeviceSnapshot;
import dev.ublkctl.tui.model.LatencyHistogram;
import dev.ublkctl.tui.model.MapEntry;
import dev.ublkctl.tui.model.MapSnapshot;
import dev.ublkctl.tui.model.QueueCounters;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads the daemon's JSON answers into the monitor's records. Lenient about what is optional
 * (a missing counter is 0), strict about shape (a stats answer without a {@code queues} array is
 * an error), so a daemon of another version degrades to fewer numbers rather than wrong ones.
 */
public final class StatsJson {
    private StatsJson() {}

    /** A device record ({@code device.list} / {@code device.get}) plus its stats, or the error reading them. */
    public static DeviceSnapshot device(JsonNode rec, JsonNode stats, String statsError) {
        List<QueueCounters> qs = stats == null ? List.of() : queues(stats);
        String program = text(rec, "program");
        return new DeviceSnapshot(rec.path("id").asInt(), text(rec, "target"), text(rec, "backend"), text(rec, "state"),
                rec.path("queues").asInt(), rec.path("depth").asInt(), rec.path("size").asLong(),
                program, qs, List.of(), statsError, text(rec, "engine"));
    }

    /** The per-queue counters of a {@code device.stats} answer. */
    public static List<QueueCounters> queues(JsonNode stats) {
        JsonNode arr = stats.get("queues");
        if (arr == null || !arr.isArray()) throw new IllegalArgumentException("stats answer has no 'queues' array");
        List<QueueCounters> out = new ArrayList<>();
        int i = 0;
        for (JsonNode q : arr) {
            out.add(queue(q, i++));
        }
        return out;
    }

    static QueueCounters queue(JsonNode q, int index) {
        long ios = q.path("ios").asLong(-1), bytes = q.path("bytes").asLong(-1);
        if (ios < 0 || bytes < 0) {
            // The engine's QueueStats: per-op counts {READ: {ios, bytes}, ...}.
            long si = 0, sb = 0;
            for (Iterator<JsonNode> it = q.path("ops").elements(); it.hasNext(); ) {
                JsonNode op = it.next();
                si += op.path("ios").asLong();
                sb += op.path("bytes").asLong();
            }
            if (ios < 0) ios = si;
            if (bytes < 0) bytes = sb;
        }
        JsonNode err = q.path("errors");
        long errors = 0;
        if (err.isNumber()) errors = err.asLong();
        else for (Iterator<JsonNode> it = err.elements(); it.hasNext(); ) errors += it.next().asLong(); // errno -> count
        JsonNode p99 = first(q.path("latency"), "p99Ns", "p99Nanos", "p99");
        double p99SinceStart = p99 != null && p99.isNumber() && p99.asDouble() > 0 ? p99.asDouble() : Double.NaN;
        return new QueueCounters(q.path("queue").asInt(index), ios, bytes, q.path("bpfHandled").asLong(),
                q.path("redirected").asLong(), q.path("splitParts").asLong(), errors, q.path("inFlight").asLong(),
                latency(q.path("latency")), q.path("progRuns").asLong(), q.path("progRunNanos").asLong(), p99SinceStart);
    }

    /**
     * A latency histogram in one of two shapes: {@code buckets: [{le|upperNanos, count}, ...]}, or
     * parallel arrays of bounds ({@code upperBounds|bounds|upperNanos}) and counts
     * ({@code buckets|counts}). Anything else reads as empty (the p99 column then shows "-").
     */
    static LatencyHistogram latency(JsonNode lat) {
        if (lat == null || !lat.isObject()) return LatencyHistogram.EMPTY;
        TreeMap<Long, Long> m = new TreeMap<>();
        JsonNode b = lat.get("buckets");
        JsonNode bounds = first(lat, "upperBounds", "bounds", "upperNanos", "bucketUpperBounds");
        JsonNode counts = b != null && b.isArray() && b.size() > 0 && b.get(0).isNumber() ? b : lat.get("counts");
        if (b != null && b.isArray() && b.size() > 0 && b.get(0).isObject()) {
            for (JsonNode e : b) {
                JsonNode le = first(e, "le", "upperNanos", "upper", "bound");
                if (le == null) continue;
                long c = e.path("count").asLong();
                if (c != 0) m.merge(le.asLong(), c, Long::sum);
            }
        } else if (bounds != null && counts != null && bounds.isArray() && counts.isArray()) {
            int n = Math.min(bounds.size(), counts.size());
            for (int i = 0; i < n; i++) {
                long c = counts.get(i).asLong();
                if (c != 0) m.merge(bounds.get(i).asLong(), c, Long::sum);
            }
        } else {
            return LatencyHistogram.EMPTY;
        }
        long[] ub = new long[m.size()], cs = new long[m.size()];
        int i = 0;
        for (Map.Entry<Long, Long> e : m.entrySet()) {
            ub[i] = e.getKey();
            cs[i++] = e.getValue();
        }
        return new LatencyHistogram(ub, cs);
    }

    /** The entries of a {@code map.dump} answer: an array, or an object holding {@code entries}. */
    public static MapSnapshot map(JsonNode info, JsonNode dump) {
        String name = text(info, "name");
        String type = text(info, "type");
        long max = first(info, "maxEntries", "max_entries") == null ? 0 : first(info, "maxEntries", "max_entries").asLong();
        JsonNode arr = dump != null && dump.isObject() ? dump.get("entries") : dump;
        List<MapEntry> entries = new ArrayList<>();
        if (arr != null && arr.isArray()) {
            for (JsonNode e : arr) {
                JsonNode f = e.has("formatted") ? e.get("formatted") : e;
                entries.add(new MapEntry(fields(f.get("key")), fields(f.get("value"))));
            }
        }
        return new MapSnapshot(name, type, max, entries, null);
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

    static String text(JsonNode n, String field) {
        JsonNode v = n == null ? null : n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static JsonNode first(JsonNode n, String... names) {
        for (String s : names) {
            JsonNode v = n == null ? null : n.get(s);
            if (v != null && !v.isNull()) return v;
        }
        return null;
    }
}
