package dev.ublkctl.bpf.maps;

import dev.ublkctl.sys.Errno;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A BPF map living in the VM. Values are stored in one heap segment backed by a {@code long[]}
 * (8-byte aligned, so programs can run atomics on them); each value starts at an 8-byte aligned
 * offset ({@link #valueOffset(int, int)}). Programs get pointers into this storage, so a store
 * through a looked-up pointer updates the map in place, as in the kernel.
 * <p>Thread safety: program lookups are lock-free; updates, deletes and Java-side lookups of hash maps
 * take the map's lock, and a new entry becomes visible only after its value is written. A value pointer
 * a program holds may see its slot reused after a delete, as with the kernel's preallocated maps.
 * Value bytes are not copied atomically (like the kernel without {@code BPF_F_LOCK}).
 * <p>Two faces: byte arrays for Java callers ({@link #lookup}, {@link #update}, {@link #delete},
 * {@link #nextKey}), segment+offset for the VM's helpers (no copies of values).
 */
public abstract sealed class VmMap permits ArrayMap, HashTableMap, ProgArrayMap, RingBufMap {
    /** Update flags of {@code bpf_map_update_elem}. */
    public static final long BPF_ANY = 0, BPF_NOEXIST = 1, BPF_EXIST = 2;
    /** Storage limit per map, to fail cleanly rather than exhaust the heap. */
    public static final long MAX_STORAGE_BYTES = 1L << 30;

    protected final MapDef def;
    protected final int cpus;
    /** Bytes between consecutive values (value size rounded up to 8). */
    protected final int stride;
    protected final MemorySegment storage;
    private static final java.util.concurrent.atomic.AtomicInteger IDS = new java.util.concurrent.atomic.AtomicInteger();
    /** Process-unique number of this map (cheap hashing in the VM's lookup cache). */
    public final int uid = IDS.incrementAndGet();

    protected VmMap(MapDef def, int cpus) {
        this.def = def;
        this.cpus = def.type().perCpu() ? cpus : 1;
        if (this.cpus <= 0) throw new IllegalArgumentException("cpu count must be positive");
        this.stride = (def.valueSize() + 7) & ~7;
        // a ring buffer keeps its data area itself (RingBufMap); a program array its programs
        long bytes = def.type() == MapType.RINGBUF || def.type() == MapType.PROG_ARRAY ? 0 : (long) stride * def.maxEntries() * this.cpus;
        if (bytes > MAX_STORAGE_BYTES)
            throw new IllegalArgumentException("map " + def.name() + " needs " + bytes + " bytes of values, more than "
                    + MAX_STORAGE_BYTES);
        this.storage = MemorySegment.ofArray(new long[(int) (bytes / 8)]);
    }

    /**
     * Most bytes all maps of one object may take together: 512 MiB, or a quarter of the heap if
     * that is less. One object must not be able to take the daemon's heap from every other device
     * (an {@code OutOfMemoryError} in the middle of an add helps nobody); refusing up front names
     * the maps.
     */
    public static long maxTotalBytes() {
        return Math.min(512L << 20, Runtime.getRuntime().maxMemory() / 4);
    }

    /** Heap a map of this definition takes: values (per cpu), and for hash maps keys and index arrays. */
    public static long plannedBytes(MapDef def, int cpus) {
        long n = Integer.toUnsignedLong(def.maxEntries());
        if (def.type() == MapType.RINGBUF) return n;
        if (def.type() == MapType.PROG_ARRAY) return 8 * n;
        long copies = def.type().perCpu() ? Math.max(1, cpus) : 1;
        long bytes = ((def.valueSize() + 7L) & ~7L) * n * copies;
        if (def.type() != MapType.ARRAY && def.type() != MapType.PERCPU_ARRAY)
            bytes += ((def.keySize() + 7L) & ~7L) * n + n * (4 + 4 + 1 + 4 + 8) + 8 * n;   // keys, hash, next, used, free, lru, buckets
        return bytes;
    }

    /** Refuses a set of maps whose {@link #plannedBytes} together exceed {@link #maxTotalBytes()}. */
    public static void checkTotal(String object, java.util.List<MapDef> defs, int cpus) {
        long total = 0;
        StringBuilder big = new StringBuilder();
        for (MapDef d : defs) {
            long b = plannedBytes(d, cpus);
            total += b;
            if (b >= (1 << 20)) big.append(big.isEmpty() ? "" : ", ").append(d.name()).append(' ').append(b >> 20).append(" MiB");
        }
        long max = maxTotalBytes();
        if (total > max)
            throw new IllegalArgumentException(object + ": its maps need " + (total >> 20) + " MiB (" + big + "), more than the "
                    + (max >> 20) + " MiB one object may use here");
    }

    /** A map of the given definition; per-cpu maps get {@code cpus} copies of each value. */
    public static VmMap create(MapDef def, int cpus) {
        return switch (def.type()) {
            case ARRAY, PERCPU_ARRAY -> new ArrayMap(def, cpus);
            case HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH -> new HashTableMap(def, cpus);
            case PROG_ARRAY -> new ProgArrayMap(def);
            case RINGBUF -> new RingBufMap(def);
            default -> throw new IllegalArgumentException("map " + def.name() + ": type " + def.type()
                    + " is not supported by the VM");
        };
    }

    public MapDef def() { return def; }
    public String name() { return def.name(); }
    /** Number of value copies per entry (1 unless per-cpu). */
    public int cpus() { return cpus; }
    public boolean perCpu() { return def.type().perCpu(); }

    /** BPF_F_RDONLY_PROG: programs may read but not write values (.rodata). */
    public static final int F_RDONLY_PROG = 1 << 7;

    /** Whether programs may write values through pointers ({@link #F_RDONLY_PROG} not set). */
    public boolean programWritable() { return (def.flags() & F_RDONLY_PROG) == 0; }

    /** Size of a value as Java callers see it: per-cpu maps concatenate all cpus, each rounded to 8 bytes. */
    public int userValueSize() { return perCpu() ? stride * cpus : def.valueSize(); }

    // ---------------- VM face

    /** Backing storage of all values. */
    public MemorySegment storage() { return storage; }

    /** Offset in {@link #storage()} of the value of slot {@code slot} for cpu {@code cpu}. */
    public long valueOffset(int slot, int cpu) { return ((long) slot * cpus + cpu) * stride; }

    /** The slot holding the key at {@code seg[off..off+keySize)}, or -1. */
    public abstract int findSlot(MemorySegment keySeg, long keyOff);

    /**
     * Inserts or updates from a program: the value at {@code valSeg[valOff..]} (one cpu's worth) goes to
     * cpu {@code cpu}'s copy. Returns 0 or a negative errno.
     */
    public abstract int updateFromVm(MemorySegment keySeg, long keyOff, MemorySegment valSeg, long valOff, long flags, int cpu);

    /** Deletes from a program; returns 0 or a negative errno. */
    public abstract int deleteFromVm(MemorySegment keySeg, long keyOff);

    // ---------------- Java face

    /** A copy of the value for {@code key} ({@link #userValueSize()} bytes), or null if absent. */
    public byte[] lookup(byte[] key) {
        checkKey(key);
        int slot = findSlot(MemorySegment.ofArray(key), 0);
        if (slot < 0) return null;
        byte[] out = new byte[userValueSize()];
        MemorySegment o = MemorySegment.ofArray(out);
        if (perCpu()) {
            MemorySegment.copy(storage, valueOffset(slot, 0), o, 0, (long) stride * cpus);
        } else {
            MemorySegment.copy(storage, valueOffset(slot, 0), o, 0, def.valueSize());
        }
        return out;
    }

    /** Inserts or updates; {@code value} has {@link #userValueSize()} bytes. */
    public abstract void update(byte[] key, byte[] value, long flags) throws MapException;

    public abstract void delete(byte[] key) throws MapException;

    /**
     * The key after {@code key} in iteration order ({@code BPF_MAP_GET_NEXT_KEY}): null or an absent key
     * give the first key; returns null after the last key.
     */
    public abstract byte[] nextKey(byte[] key);

    /** Number of present entries. */
    public abstract int count();

    protected void checkKey(byte[] key) {
        if (key.length != def.keySize())
            throw new IllegalArgumentException("map " + name() + ": key must have " + def.keySize() + " bytes, not " + key.length);
    }

    protected void checkValue(byte[] value) {
        if (value.length != userValueSize())
            throw new IllegalArgumentException("map " + name() + ": value must have " + userValueSize() + " bytes, not " + value.length);
    }

    protected static int checkFlags(long flags) {
        return flags < 0 || flags > BPF_EXIST ? -Errno.EINVAL : 0;
    }

    /** Copies a user value (all cpus for per-cpu maps) into slot storage. */
    protected void storeUserValue(int slot, byte[] value) {
        MemorySegment v = MemorySegment.ofArray(value);
        if (perCpu()) {
            for (int c = 0; c < cpus; c++)
                MemorySegment.copy(v, (long) c * stride, storage, valueOffset(slot, c), def.valueSize());
        } else {
            MemorySegment.copy(v, 0, storage, valueOffset(slot, 0), def.valueSize());
        }
    }

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    protected static int u32(MemorySegment seg, long off) {
        return seg.get(U32, off);
    }

    @Override public String toString() {
        return def.type() + " map " + def.name() + " (key " + def.keySize() + ", value " + def.valueSize()
                + ", max " + def.maxEntries() + (perCpu() ? ", " + cpus + " cpus" : "") + ")";
    }
}
