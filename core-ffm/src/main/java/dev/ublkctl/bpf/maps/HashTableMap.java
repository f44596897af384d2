package dev.ublkctl.bpf.maps;

import dev.ublkctl.sys.Errno;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH. Entries live in preallocated slots (like the kernel's
 * preallocated hash maps): a key index maps keys to slots, freed slots are reused. A value pointer
 * handed to a program stays valid memory after delete (the slot may be reused, as in the kernel).
 * LRU variants evict an old entry when full instead of failing with E2BIG: the least recently
 * looked-up/updated of the next 128 slots (approximate, like the kernel's LRU).
 * Iteration ({@link #nextKey}) follows slot order.
 */
public final class HashTableMap extends VmMap {

    /** Immutable key bytes with a cached hash. */
    private static final class Key {
        final byte[] bytes;
        final int hash;
        Key(byte[] bytes) { this.bytes = bytes; this.hash = Arrays.hashCode(bytes); }
        @Override public int hashCode() { return hash; }
        @Override public boolean equals(Object o) { return o instanceof Key k && Arrays.equals(bytes, k.bytes); }
    }

    /** Entry limit of hash maps in the VM (each entry costs a key object and bookkeeping on the heap). */
    public static final int MAX_HASH_ENTRIES = 1 << 24;

    private final ConcurrentHashMap<Key, Integer> index;
    private final Key[] slotKeys;        // guarded by this
    private final int[] freeSlots;       // guarded by this
    private int freeTop;                 // guarded by this
    private final boolean lru;
    private final long[] lastUse;        // racy by design: an approximate LRU clock
    private final AtomicLong clock = new AtomicLong();

    HashTableMap(MapDef def, int cpus) {
        super(def, cpus);
        int max = def.maxEntries();
        if (max > MAX_HASH_ENTRIES)
            throw new IllegalArgumentException("hash map " + def.name() + ": at most " + MAX_HASH_ENTRIES + " entries, not " + max);
        this.index = new ConcurrentHashMap<>(Math.min(max, 1 << 16));
        this.slotKeys = new Key[max];
        this.freeSlots = new int[max];
        for (int i = 0; i < max; i++) freeSlots[i] = max - 1 - i;   // hand out slot 0 first
        this.freeTop = max;
        this.lru = def.type() == MapType.LRU_HASH || def.type() == MapType.LRU_PERCPU_HASH;
        this.lastUse = lru ? new long[max] : null;
    }

    private Key keyOf(MemorySegment seg, long off) {
        byte[] b = new byte[def.keySize()];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, off, b, 0, b.length);
        return new Key(b);
    }

    @Override public int findSlot(MemorySegment keySeg, long keyOff) {
        Integer slot = index.get(keyOf(keySeg, keyOff));
        if (slot == null) return -1;
        if (lru) lastUse[slot] = clock.incrementAndGet();
        return slot;
    }

    /** Marks "the key is new" in {@link #existingSlot}. */
    private static final int NEW = Integer.MIN_VALUE;

    /** The slot to overwrite for {@code key}, {@link #NEW}, or a negative errno. Caller holds the lock. */
    private int existingSlot(Key key, long flags) {
        if (checkFlags(flags) != 0) return -Errno.EINVAL;
        Integer existing = index.get(key);
        if (existing != null) return flags == BPF_NOEXIST ? -Errno.EEXIST : existing;
        if (flags == BPF_EXIST) return -Errno.ENOENT;
        if (freeTop == 0 && !lru) return -Errno.E2BIG;
        return NEW;
    }

    /** A free slot, zeroed on every cpu (evicting for LRU maps). Caller holds the lock. */
    private int allocate() {
        if (freeTop == 0) evictOldest();
        int slot = freeSlots[--freeTop];
        storage.asSlice(valueOffset(slot, 0), (long) stride * cpus).fill((byte) 0);
        return slot;
    }

    /** Makes a filled slot visible to lookups (after its value is written, as the kernel links a new element). */
    private void publish(int slot, Key key) {
        slotKeys[slot] = key;
        index.put(key, slot);
    }

    /** How many slots one LRU eviction looks at (approximate LRU, like the kernel's, and O(1) per insert). */
    private static final int EVICT_SCAN = 128;
    private int evictCursor;   // guarded by this

    private void evictOldest() {
        int victim = -1;
        long oldest = Long.MAX_VALUE;
        int n = slotKeys.length;
        for (int k = 0; k < Math.min(n, EVICT_SCAN); k++) {
            int i = evictCursor;
            evictCursor = (evictCursor + 1) % n;
            if (slotKeys[i] != null && lastUse[i] < oldest) { oldest = lastUse[i]; victim = i; }
        }
        removeSlot(victim);   // the map is full, so every slot holds a key
    }

    private void removeSlot(int slot) {
        index.remove(slotKeys[slot]);
        slotKeys[slot] = null;
        freeSlots[freeTop++] = slot;
    }

    @Override public synchronized int updateFromVm(MemorySegment keySeg, long keyOff, MemorySegment valSeg, long valOff, long flags, int cpu) {
        Key key = keyOf(keySeg, keyOff);
        int slot = existingSlot(key, flags);
        if (slot < 0 && slot != NEW) return slot;
        boolean fresh = slot == NEW;
        if (fresh) slot = allocate();
        MemorySegment.copy(valSeg, valOff, storage, valueOffset(slot, cpu), def.valueSize());
        if (fresh) publish(slot, key);
        if (lru) lastUse[slot] = clock.incrementAndGet();
        return 0;
    }

    @Override public synchronized int deleteFromVm(MemorySegment keySeg, long keyOff) {
        Integer slot = index.get(keyOf(keySeg, keyOff));
        if (slot == null) return -Errno.ENOENT;
        removeSlot(slot);
        return 0;
    }

    @Override public synchronized void update(byte[] key, byte[] value, long flags) throws MapException {
        checkKey(key);
        checkValue(value);
        Key k = new Key(key.clone());
        int slot = existingSlot(k, flags);
        if (slot < 0 && slot != NEW) throw new MapException(name(), "update", -slot);
        boolean fresh = slot == NEW;
        if (fresh) slot = allocate();
        storeUserValue(slot, value);
        if (fresh) publish(slot, k);
        if (lru) lastUse[slot] = clock.incrementAndGet();
    }

    @Override public synchronized void delete(byte[] key) throws MapException {
        checkKey(key);
        Integer slot = index.get(new Key(key));
        if (slot == null) throw new MapException(name(), "delete", Errno.ENOENT);
        removeSlot(slot);
    }

    /** Java-side lookups copy under the lock, so they never see a slot being reused for another key. */
    @Override public synchronized byte[] lookup(byte[] key) { return super.lookup(key); }

    @Override public synchronized byte[] nextKey(byte[] key) {
        int from = 0;
        if (key != null) {
            checkKey(key);
            Integer slot = index.get(new Key(key));
            if (slot != null) from = slot + 1;   // an absent key restarts from the first, as the kernel does
        }
        for (int i = from; i < slotKeys.length; i++)
            if (slotKeys[i] != null) return slotKeys[i].bytes.clone();
        return null;
    }

    @Override public int count() { return index.size(); }
}
