package dev.ublkctl.bpf.kernel;

import dev.ublkctl.bpf.maps.MapType;
import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.Libc;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.ublkctl.bpf.kernel.Bpf.*;

/** A map living in the kernel, owned through its fd. Values of per-CPU maps hold one slot per possible CPU. */
public final class KernelMap implements AutoCloseable {
    private final int fd;
    private final MapType type;
    private final String name;
    private final int keySize, valueSize, maxEntries;
    private boolean closed;

    KernelMap(int fd, MapType type, String name, int keySize, int valueSize, int maxEntries) {
        this.fd = fd;
        this.type = type;
        this.name = name;
        this.keySize = keySize;
        this.valueSize = valueSize;
        this.maxEntries = maxEntries;
    }

    public int fd() { return fd; }
    public MapType type() { return type; }
    public String name() { return name; }
    public int keySize() { return keySize; }
    public int valueSize() { return valueSize; }
    public int maxEntries() { return maxEntries; }

    /** Bytes a lookup returns: per-CPU maps return round_up(value_size, 8) per possible CPU. */
    public int valueBufferSize() {
        return type.perCpu() ? ((valueSize + 7) & ~7) * possibleCpus() : valueSize;
    }

    private long elem(int cmd, byte[] key, MemorySegment value, long flags, String what) {
        if (key.length != keySize) throw new IllegalArgumentException("key of map " + name + " has " + keySize + " bytes, got " + key.length);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = attr(a);
            MemorySegment k = a.allocateFrom(ValueLayout.JAVA_BYTE, key);
            putInt(attr, BpfAttr.MAP_ELEM, "map_fd", fd);
            putLong(attr, BpfAttr.MAP_ELEM, "key", k.address());
            putLong(attr, BpfAttr.MAP_ELEM, "value", value.address());
            putLong(attr, BpfAttr.MAP_ELEM, "flags", flags);
            long r = call(cmd, attr);
            if (r < 0 && r != -Errno.ENOENT) throw new BpfException(what, "map \"" + name + "\" fd " + fd, (int) -r, null);
            return r;
        }
    }

    /** The value under {@code key}, or null if absent. */
    public byte[] lookup(byte[] key) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(valueBufferSize(), 8);
            long r = elem(MAP_LOOKUP_ELEM, key, v, 0, "BPF_MAP_LOOKUP_ELEM");
            return r < 0 ? null : v.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** Stores {@code value} under {@code key} with {@link Bpf#BPF_ANY}/NOEXIST/EXIST semantics. */
    public void update(byte[] key, byte[] value, long flags) {
        if (value.length != valueBufferSize())
            throw new IllegalArgumentException("value of map " + name + " has " + valueBufferSize() + " bytes, got " + value.length);
        try (Arena a = Arena.ofConfined()) {
            long r = elem(MAP_UPDATE_ELEM, key, a.allocateFrom(ValueLayout.JAVA_BYTE, value), flags, "BPF_MAP_UPDATE_ELEM");
            if (r < 0) throw new BpfException("BPF_MAP_UPDATE_ELEM", "map \"" + name + "\"", Errno.ENOENT, null);
        }
    }

    /** Deletes {@code key}; false if it was absent. */
    public boolean delete(byte[] key) {
        return elem(MAP_DELETE_ELEM, key, MemorySegment.NULL, 0, "BPF_MAP_DELETE_ELEM") >= 0;
    }

    /** The key after {@code key} (or the first key when {@code key} is null); null at the end. */
    public byte[] nextKey(byte[] key) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment next = a.allocate(keySize);
            MemorySegment attr = attr(a);
            putInt(attr, BpfAttr.MAP_ELEM, "map_fd", fd);
            if (key != null) putLong(attr, BpfAttr.MAP_ELEM, "key", a.allocateFrom(ValueLayout.JAVA_BYTE, key).address());
            putLong(attr, BpfAttr.MAP_ELEM, "value", next.address());
            long r = call(MAP_GET_NEXT_KEY, attr);
            if (r == -Errno.ENOENT) return null;
            if (r < 0) throw new BpfException("BPF_MAP_GET_NEXT_KEY", "map \"" + name + "\"", (int) -r, null);
            return next.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** What the kernel says about this map. */
    public record Info(int id, int type, int keySize, int valueSize, int maxEntries, int flags, String name) {}

    public Info info() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment i = a.allocate(BpfAttr.MAP_INFO);
            objInfo(fd, i, a);
            java.lang.foreign.StructLayout l = BpfAttr.MAP_INFO;
            return new Info(getInt(i, l, "id"), getInt(i, l, "type"), getInt(i, l, "key_size"), getInt(i, l, "value_size"),
                    getInt(i, l, "max_entries"), getInt(i, l, "map_flags"), cstring(i, BpfAttr.off(l, "name"), 16));
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Libc.close(fd);
        }
    }

    private static int possibleCpus;

    /** Number of possible CPUs (from /sys/devices/system/cpu/possible, e.g. "0-7"). */
    public static synchronized int possibleCpus() {
        if (possibleCpus == 0) {
            int n = 0;
            try {
                for (String part : Files.readString(Path.of("/sys/devices/system/cpu/possible")).trim().split(",")) {
                    String[] r = part.split("-");
                    n += r.length == 1 ? 1 : Integer.parseInt(r[1]) - Integer.parseInt(r[0]) + 1;
                }
            } catch (IOException | NumberFormatException e) {
                n = Runtime.getRuntime().availableProcessors();
            }
            possibleCpus = n;
        }
        return possibleCpus;
    }
}
