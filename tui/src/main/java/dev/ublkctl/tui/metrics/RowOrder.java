package dev.ublkctl.tui.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How the devices table is sorted and filtered: a column, a direction and a filter text.
 * Immutable; the key handlers return new orders.
 */
public record RowOrder(Column column, boolean descending, String filter) {

    public static final RowOrder DEFAULT = new RowOrder(Column.ID, false, "");

    public RowOrder {
        filter = filter == null ? "" : filter.strip();
    }

    /** Sort by the next column (wrapping), in that column's natural direction. */
    public RowOrder nextColumn() {
        Column[] all = Column.values();
        Column n = all[(column.ordinal() + 1) % all.length];
        return new RowOrder(n, n.descendingByDefault(), filter);
    }

    public RowOrder sortedBy(Column c) { return new RowOrder(c, c.descendingByDefault(), filter); }

    public RowOrder reversed() { return new RowOrder(column, !descending, filter); }

    public RowOrder filtered(String text) { return new RowOrder(column, descending, text); }

    /** The rows that pass the filter, sorted. */
    public List<DeviceRow> apply(List<DeviceRow> rows) {
        List<DeviceRow> out = new ArrayList<>();
        for (DeviceRow r : rows) if (matches(r, filter)) out.add(r);
        out.sort(column.comparator(descending));
        return out;
    }

    /**
     * Every whitespace-separated word of the filter must occur (case-insensitively) in one of the
     * row's text fields: id (also as {@code ublkbN}), target, backend, state, program. A word
     * {@code key=value} matches only that field (keys: id, target, backend, state, program).
     */
    public static boolean matches(DeviceRow r, String filter) {
        if (filter == null || filter.isBlank()) return true;
        var d = r.device();
        String id = Integer.toString(d.id());
        String[][] fields = {
                {"id", id, "ublkb" + id},
                {"target", low(d.target())},
                {"backend", low(d.backend())},
                {"state", low(r.stateWord())},
                {"program", low(d.program())},
        };
        for (String word : filter.toLowerCase(Locale.ROOT).split("\\s+")) {
            int eq = word.indexOf('=');
            String key = eq > 0 ? word.substring(0, eq) : null, want = eq > 0 ? word.substring(eq + 1) : word;
            boolean hit = false;
            for (String[] f : fields) {
                if (key != null && !f[0].equals(key)) continue;
                for (int i = 1; i < f.length && !hit; i++) {
                    // An id is matched whole ("1" must not pick device 10); text fields by substring.
                    hit = f[0].equals("id") ? f[i].equals(want) : f[i].contains(want);
                }
                if (hit) break;
            }
            if (!hit) return false;
        }
        return true;
    }

    private static String low(String s) { return s == null ? "" : s.toLowerCase(Locale.ROOT); }
}
