package dev.ublkctl.tui.model;

import java.util.List;

/**
 * One map entry, key and value already decoded with BTF into text ({@code {queue=0, ios=12}}).
 *
 * @param key    the key as text
 * @param value  the value as text; for a per-cpu map, every cpu's value summed field by field
 * @param perCpu a per-cpu map's values, one per cpu (empty for other maps)
 */
public record MapEntry(String key, String value, List<String> perCpu) {
    public MapEntry {
        perCpu = perCpu == null ? List.of() : List.copyOf(perCpu);
    }

    public MapEntry(String key, String value) { this(key, value, List.of()); }
}
