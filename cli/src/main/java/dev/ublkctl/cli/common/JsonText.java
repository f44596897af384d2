package dev.ublkctl.cli.common;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Human form of a daemon answer: scalar fields as aligned "key: value" lines (nested objects
 * flattened with dots), arrays of objects as column tables under their name.
 */
public final class JsonText {
    private JsonText() {}

    public static void print(PrintWriter out, Style st, JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            out.println("-");
        } else if (n.isArray()) {
            table(out, st, n);
        } else if (n.isObject()) {
            List<String[]> kv = new ArrayList<>();
            List<Map.Entry<String, JsonNode>> tables = new ArrayList<>();
            flatten("", n, kv, tables);
            if (!kv.isEmpty()) Table.keyValues(out, st, kv);
            for (var t : tables) {
                out.println();
                out.println(st.bold(t.getKey() + ":"));
                table(out, st, t.getValue());
            }
        } else {
            out.println(n.asText());
        }
        out.flush();
    }

    private static void flatten(String prefix, JsonNode n, List<String[]> kv, List<Map.Entry<String, JsonNode>> tables) {
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            var e = it.next();
            String k = prefix + e.getKey();
            JsonNode v = e.getValue();
            if (v.isObject()) flatten(k + ".", v, kv, tables);
            else if (v.isArray() && !v.isEmpty() && v.get(0).isObject()) tables.add(Map.entry(k, v));
            else kv.add(new String[]{k, scalar(v)});
        }
    }

    /** An array: objects as a table with the union of their (flattened) keys as columns. */
    public static void table(PrintWriter out, Style st, JsonNode arr) {
        if (arr.isEmpty()) {
            out.println("(none)");
            return;
        }
        if (!arr.get(0).isObject()) {
            for (JsonNode x : arr) out.println(scalar(x));
            return;
        }
        Set<String> cols = new LinkedHashSet<>();
        List<Map<String, String>> rows = new ArrayList<>();
        for (JsonNode o : arr) {
            Map<String, String> row = new java.util.LinkedHashMap<>();
            flatRow("", o, row);
            cols.addAll(row.keySet());
            rows.add(row);
        }
        List<String> cl = new ArrayList<>(cols);
        Table t = new Table(cl.stream().map(c -> c.toUpperCase(java.util.Locale.ROOT)).toArray(String[]::new));
        for (int i = 0; i < cl.size(); i++) {
            String c = cl.get(i);
            boolean num = true;
            for (JsonNode o : arr) {
                JsonNode v = o.at("/" + c.replace(".", "/"));
                if (!v.isMissingNode() && !v.isNumber()) { num = false; break; }
            }
            if (num) t.right(i);
        }
        for (Map<String, String> r : rows) t.row(cl.stream().map(r::get).toArray());
        t.print(out, st);
    }

    private static void flatRow(String prefix, JsonNode o, Map<String, String> row) {
        for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getValue().isObject()) flatRow(prefix + e.getKey() + ".", e.getValue(), row);
            else row.put(prefix + e.getKey(), scalar(e.getValue()));
        }
    }

    public static String scalar(JsonNode v) {
        if (v == null || v.isNull()) return "-";
        if (v.isArray()) {
            List<String> parts = new ArrayList<>();
            for (JsonNode x : v) parts.add(x.isContainerNode() ? x.toString() : x.asText());
            return parts.isEmpty() ? "-" : "[" + String.join(" ", parts) + "]";
        }
        if (v.isFloatingPointNumber()) return String.format(java.util.Locale.ROOT, "%.2f", v.asDouble());
        return v.isContainerNode() ? v.toString() : v.asText();
    }
}
