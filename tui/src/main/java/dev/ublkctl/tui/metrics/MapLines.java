package dev.ublkctl.tui.metrics;

import dev.ublkctl.tui.model.MapEntry;
import dev.ublkctl.tui.model.MapSnapshot;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The lines of the maps pane: a header per map, then its entries, with entries whose value is all
 * zeros folded into one line (unless shown), hash maps sorted by key, per-cpu values summed (or
 * listed per cpu when expanded), and entries that changed since the last refresh marked.
 */
public final class MapLines {
    private MapLines() {}

    public enum Kind { HEADER, ENTRY, CHANGED, FOLDED, CPU }

    public record Line(String text, Kind kind) { }

    private static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?");
    private static final Pattern NONZERO_DIGIT = Pattern.compile("(?<![A-Za-z_])-?0*[1-9]");

    /** True if every number in the value is zero (and it has at least one): an untouched slot. */
    public static boolean isZero(String value) {
        if (value == null) return true;
        if (value.startsWith("hex:")) return value.substring(4).replace(" ", "").chars().allMatch(c -> c == '0');
        if (!NUMBER.matcher(value).find()) return false;
        // names like a1 are not numbers: look only at digits not glued to a word
        return !NONZERO_DIGIT.matcher(value).find();
    }

    /**
     * @param changed  map name → keys whose value changed since the last refresh
     * @param showZero list zero entries too
     * @param perCpu   list each cpu's value under a per-cpu entry
     */
    public static List<Line> of(List<MapSnapshot> maps, Map<String, Set<String>> changed, boolean showZero, boolean perCpu) {
        List<Line> out = new ArrayList<>();
        for (MapSnapshot m : maps) {
            List<MapEntry> entries = new ArrayList<>(m.entries());
            if (m.type() != null && m.type().contains("hash")) entries.sort(KEY_ORDER);
            int zeros = 0;
            for (MapEntry e : entries) if (isZero(e.value())) zeros++;
            boolean pcpu = entries.stream().anyMatch(e -> !e.perCpu().isEmpty());
            out.add(new Line("▸ " + m.name() + "  " + (m.type() == null ? "-" : m.type()) + "  " + m.entries().size() + "/"
                    + m.maxEntries() + " entries" + (pcpu ? (perCpu ? "  (per cpu)" : "  (summed over cpus)") : "")
                    + (m.error() == null ? "" : "  (" + m.error() + ")"), Kind.HEADER));
            if (!showZero && zeros > 0) out.add(new Line("    … " + zeros + " zero entr" + (zeros == 1 ? "y" : "ies") + " folded (z shows them)", Kind.FOLDED));
            Set<String> ch = changed.getOrDefault(m.name(), Set.of());
            for (MapEntry e : entries) {
                if (!showZero && isZero(e.value())) continue;
                out.add(new Line("    " + e.key() + " → " + e.value(), ch.contains(e.key()) ? Kind.CHANGED : Kind.ENTRY));
                if (perCpu) {
                    for (int c = 0; c < e.perCpu().size(); c++) out.add(new Line("        cpu" + c + " → " + e.perCpu().get(c), Kind.CPU));
                }
            }
        }
        return out;
    }

    /** Numeric keys by value, others as text. */
    static final Comparator<MapEntry> KEY_ORDER = (a, b) -> {
        BigInteger x = number(a.key()), y = number(b.key());
        if (x != null && y != null) return x.compareTo(y);
        if (x != null) return -1;
        if (y != null) return 1;
        return a.key().compareTo(b.key());
    };

    private static BigInteger number(String s) {
        try {
            return new BigInteger(s.strip());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Map name → keys whose value differs between two reads of the same device's maps (new keys count). */
    public static Map<String, Set<String>> changes(List<MapSnapshot> before, List<MapSnapshot> after) {
        Map<String, Map<String, String>> old = new HashMap<>();
        for (MapSnapshot m : before) {
            Map<String, String> kv = new HashMap<>();
            for (MapEntry e : m.entries()) kv.put(e.key(), e.value());
            old.put(m.name(), kv);
        }
        Map<String, Set<String>> out = new HashMap<>();
        for (MapSnapshot m : after) {
            Map<String, String> kv = old.get(m.name());
            if (kv == null) continue;   // first read of this map: nothing to compare with
            Set<String> ch = new java.util.HashSet<>();
            for (MapEntry e : m.entries()) if (!e.value().equals(kv.get(e.key()))) ch.add(e.key());
            if (!ch.isEmpty()) out.put(m.name(), Set.copyOf(ch));
        }
        return out;
    }
}
