package dev.ublkctl.bpf.object;

import dev.ublkctl.bpf.maps.MapType;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A map as an object file declares it (plain data, nothing created). BTF-defined maps come from
 * {@code .maps}; global data sections ({@code .data}, {@code .rodata}, {@code .bss}, {@code .data.*},
 * {@code .rodata.*}) become single-entry ARRAY maps named after the section, whose one value is the
 * section's bytes ({@link #initialValue()}, zeros for {@code .bss}).
 *
 * @param keyTypeId   BTF type of the key, 0 if not known
 * @param valueTypeId BTF type of the value (the DATASEC for global data), 0 if not known
 * @param section     the ELF section the definition came from
 * @param initialValue the value of key 0 for global data maps, null for other maps
 * @param initialPrograms for a PROG_ARRAY defined with {@code __array(values, ...)} and initialised
 *                     ({@code .values = { [i] = &prog }}): index to program name, as libbpf fills it
 */
public record MapSpec(String name, MapType type, int keySize, int valueSize, int maxEntries, int flags,
                      int keyTypeId, int valueTypeId, String section, byte[] initialValue,
                      Map<Integer, String> initialPrograms) {
    /** BPF_F_RDONLY_PROG: programs may not write (.rodata). */
    public static final int F_RDONLY_PROG = 1 << 7;
    /** BPF_F_MMAPABLE: global data maps can be mmapped by the loader. */
    public static final int F_MMAPABLE = 1 << 10;

    public MapSpec {
        initialValue = initialValue == null ? null : initialValue.clone();
        initialPrograms = initialPrograms == null ? Map.of()
                : Collections.unmodifiableMap(new TreeMap<>(initialPrograms));
    }

    public MapSpec(String name, MapType type, int keySize, int valueSize, int maxEntries, int flags,
                   int keyTypeId, int valueTypeId, String section, byte[] initialValue) {
        this(name, type, keySize, valueSize, maxEntries, flags, keyTypeId, valueTypeId, section, initialValue, null);
    }

    /** The same map with its program array slots initialised. */
    public MapSpec withInitialPrograms(Map<Integer, String> programs) {
        return new MapSpec(name, type, keySize, valueSize, maxEntries, flags, keyTypeId, valueTypeId, section, initialValue, programs);
    }

    @Override
    public byte[] initialValue() { return initialValue == null ? null : initialValue.clone(); }

    /** True for maps made from a global data section. */
    public boolean isGlobalData() { return initialValue != null; }

    public boolean isReadOnly() { return (flags & F_RDONLY_PROG) != 0; }

    @Override
    public String toString() {
        return "MapSpec[" + name + " " + type + " key " + keySize + " value " + valueSize + " max " + maxEntries
                + (flags != 0 ? " flags 0x" + Integer.toHexString(flags) : "") + " from " + section + "]";
    }
}
