package dev.ublkctl.tui.model;

import java.util.List;

/**
 * The contents of one map of a device's program.
 *
 * @param name       map name from the object
 * @param type       map type (array, hash, ...)
 * @param maxEntries capacity
 * @param entries    entries, BTF-decoded
 * @param error      why the contents could not be read, or null
 */
public record MapSnapshot(String name, String type, long maxEntries, List<MapEntry> entries, String error) {
    public MapSnapshot {
        entries = entries == null ? List.of() : List.copyOf(entries);
    }
}
