package dev.ublkctl.bpf.maps;

import java.util.Objects;

/** What a map is: the fields of {@code BPF_MAP_CREATE} the VM needs. */
public record MapDef(String name, MapType type, int keySize, int valueSize, int maxEntries, int flags) {
    public MapDef {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        if (keySize <= 0 || valueSize <= 0 || maxEntries <= 0)
            throw new IllegalArgumentException("map " + name + ": key size, value size and max entries must be positive"
                    + " (got " + keySize + ", " + valueSize + ", " + maxEntries + ")");
        if ((type == MapType.ARRAY || type == MapType.PERCPU_ARRAY) && keySize != 4)
            throw new IllegalArgumentException("map " + name + ": array maps need a 4-byte key, not " + keySize);
    }

    public static MapDef of(String name, MapType type, int keySize, int valueSize, int maxEntries) {
        return new MapDef(name, type, keySize, valueSize, maxEntries, 0);
    }
}
