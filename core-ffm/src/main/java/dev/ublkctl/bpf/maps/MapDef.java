package dev.ublkctl.bpf.maps;

import java.util.Objects;

/** What a map is: the fields of {@code BPF_MAP_CREATE} the VM needs. */
public record MapDef(String name, MapType type, int keySize, int valueSize, int maxEntries, int flags) {
    public MapDef {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        if (type == MapType.RINGBUF) {
            // as BPF_MAP_CREATE: no key or value, a data area of a power-of-two number of pages
            if (keySize != 0 || valueSize != 0)
                throw new IllegalArgumentException("map " + name + ": a ring buffer has key and value size 0 (got "
                        + keySize + ", " + valueSize + ")");
            if (maxEntries < RingBufMap.PAGE_SIZE || Integer.bitCount(maxEntries) != 1)
                throw new IllegalArgumentException("map " + name + ": a ring buffer's size (max_entries) must be a power of 2"
                        + " and at least one page (" + RingBufMap.PAGE_SIZE + "), not " + maxEntries);
        } else {
            if (type == MapType.PROG_ARRAY && (keySize != 4 || valueSize != 4))
                throw new IllegalArgumentException("map " + name + ": a program array has 4-byte keys and values (got "
                        + keySize + ", " + valueSize + ")");
            if (keySize <= 0 || valueSize <= 0 || maxEntries <= 0)
                throw new IllegalArgumentException("map " + name + ": key size, value size and max entries must be positive"
                        + " (got " + keySize + ", " + valueSize + ", " + maxEntries + ")");
            if ((type == MapType.ARRAY || type == MapType.PERCPU_ARRAY) && keySize != 4)
                throw new IllegalArgumentException("map " + name + ": array maps need a 4-byte key, not " + keySize);
        }
    }

    public static MapDef of(String name, MapType type, int keySize, int valueSize, int maxEntries) {
        return new MapDef(name, type, keySize, valueSize, maxEntries, 0);
    }
}
