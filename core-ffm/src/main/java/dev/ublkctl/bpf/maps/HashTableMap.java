package dev.ublkctl.bpf.maps;

import dev.ublkctl.sys.Errno;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.StampedLock;

/**
 * HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH. Entries live in preallocated slots (like the kernel's
 * preallocated hash maps): keys are stored per slot in a {@code long[]}, chained from a bucket array
 * through a per-slot {@code next} index, and freed slots are reused. A value pointer handed to a
 * program stays valid memory after delete (the slot may be reused, as in the kernel).
 * LRU variants evict an old entry when full instead of failing with E2BIG: the least recently
 * looked-up/updated of the next 128 slots (approximate, like the kernel's LRU).
 * Iteration ({@link #nextKey}) follows slot order.
 *
 * <p>Program lookups ({@link #findSlot}) allocate nothing and take no lock: they search under a
 * {@link StampedLock} optimistic read and retry under the read lock if a writer got in between, so a
 * lookup never sees a half-linked entry. Updates and deletes take the write lock.
 */
public final class HashTableMap extends VmMap {

    /** Entry limit of hash maps in the VM. */
    public static final int MAX_HASH_ENTRIES = 1 << 24;

    private static final ValueLayout.OfLong KEY_WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int NONE = -1;

    private final StampedLock lock = new StampedLock();
    private final int keySize, keyWords;
    /** Key of slot s at {@code keys[s * keyWords ..]}, little-endian words, the last one zero-padded. */
    private final long[] keys;
    private final int[] slotHash;        // hash of each slot's key
    private final int[] next;            // chain link per slot, NONE at the end
    private final int[] buckets;         // chain head per bucket, NONE if empty
    private final int mask;
    private final boolean[] used;        // guarded by lock (write)
    private final int[] freeSlots;       // guarded by lock (write)
    private int freeTop;                 // guarded by lock (write)
    private volatile int size;
    private final boolean lru;
    private final long[] lastUse;        // racy by design: an approximate LRU clock
    private final AtomicLong clock = new AtomicLong();

    HashTableMap(MapDef def, int cpus) {
        super(def, cpus);
        int max = def.maxEntries();
        if (max > MAX_HASH_ENTRIES)
            throw new IllegalArgumentException("hash map " + def.name() + ": at most " + MAX_HASH_ENTRIES + " entries, not " + max);
        this.keySize = def.keySize();
        this.keyWords = (keySize + 7) >>> 3;
        long keyLongs = (long) max * keyWords;
        if (keyLongs * 8 > MAX_STORAGE_BYTES)
            throw new IllegalArgumentException("hash map " + def.name() + " needs " + keyLongs * 8 + " bytes of keys, more than "
                    + MAX_STORAGE_BYTES);
        this.keys = new long[(int) keyLongs];
        this.slotHash = new int[max];
        this.next = new int[max];
        int nb = Integer.highestOneBit(Math.max(2, max) * 2 - 1);   // a power of two >= max: chains of ~1
        this.buckets = new int[nb];
        java.util.Arrays.fill(buckets, NONE);
        this.mask = nb - 1;
        this.used = new boolean[max];
        this.freeSlots = new int[max];
        for (int i = 0; i < max; i++) freeSlots[i] = max - 1 - i;   // hand out slot 0 first
        this.freeTop = max;
        this.lru = def.type() == MapType.LRU_HASH || def.type() == MapType.LRU_PERCPU_HASH;
        this.lastUse = lru ? new long[max] : null;
    }

    // ---------------------------------------------------------------- keys

    /** Word {@code w} of the key at {@code seg[off..]}, little-endian, zero past the key's end. */
    private long word(MemorySegment seg, long off, int w) {
        int at = w << 3;
        if (at + 8 <= keySize) return seg.get(KEY_WORD, off + at);
        long v = 0;
        for (int i = keySize - 1; i >= at; i--) v = (v << 8) | (seg.get(ValueLayout.JAVA_BYTE, off + i) & 0xff);
        return v;
    }

    private int hash(MemorySegment seg, long off) {
        long h = 0x9E3779B97F4A7C15L * (keySize + 1);
        for (int w = 0; w < keyWords; w++) {
            h ^= word(seg, off, w);
            h *= 0xBF58476D1CE4E5B9L;
            h ^= h >>> 31;
        }
        return (int) (h ^ (h >>> 32));
    }

    private boolean keyEquals(int slot, MemorySegment seg, long off) {
        int base = slot * keyWords;
        for (int w = 0; w < keyWords; w++) if (keys[base + w] != word(seg, off, w)) return false;
        return true;
    }

    /**
     * The slot holding the key, or NONE. Safe without the lock: every index it reads is a slot or NONE,
     * and the walk is bounded, so a racing writer can only make the answer wrong (the caller validates).
     */
    private int search(int h, MemorySegment seg, long off) {
        int steps = slotHash.length;
        for (int s = buckets[h & mask]; s != NONE && steps-- >= 0; s = next[s])
            if (slotHash[s] == h && keyEquals(s, seg, off)) return s;
        return NONE;
    }

    @Override public int findSlot(MemorySegment keySeg, long keyOff) {
        int h = hash(keySeg, keyOff);
        long stamp = lock.tryOptimisticRead();
        int slot = stamp != 0 ? search(h, keySeg, keyOff) : NONE;
        if (stamp == 0 || !lock.validate(stamp)) {
            stamp = lock.readLock();
            try {
                slot = search(h, keySeg, keyOff);
            } finally {
                lock.unlockRead(stamp);
            }
        }
        if (slot >= 0 && lru) lastUse[slot] = clock.incrementAndGet();
        return slot;
    }

    // ---------------------------------------------------------------- writers (hold the write lock)

    /** Marks "the key is new" in {@link #existingSlot}. */
    private static final int NEW = Integer.MIN_VALUE;

    /** The slot to overwrite for the key, {@link #NEW}, or a negative errno. */
    private int existingSlot(int h, MemorySegment seg, long off, long flags) {
        if (checkFlags(flags) != 0) return -Errno.EINVAL;
        int existing = search(h, seg, off);
        if (existing >= 0) return flags == BPF_NOEXIST ? -Errno.EEXIST : existing;
        if (flags == BPF_EXIST) return -Errno.ENOENT;
        if (freeTop == 0 && !lru) return -Errno.E2BIG;
        return NEW;
    }

    /** A free slot, zeroed on every cpu (evicting for LRU maps). */
    private int allocate() {
        if (freeTop == 0) evictOldest();
        int slot = freeSlots[--freeTop];
        storage.asSlice(valueOffset(slot, 0), (long) stride * cpus).fill((byte) 0);
        return slot;
    }

    /** Links a filled slot into its chain (after its key and value are written, as the kernel links a new element). */
    private void publish(int slot, int h, MemorySegment seg, long off) {
        int base = slot * keyWords;
        for (int w = 0; w < keyWords; w++) keys[base + w] = word(seg, off, w);
        slotHash[slot] = h;
        int b = h & mask;
        next[slot] = buckets[b];
        buckets[b] = slot;
        used[slot] = true;
        size++;
    }

    /** How many slots one LRU eviction looks at (approximate LRU, like the kernel's, and O(1) per insert). */
    private static final int EVICT_SCAN = 128;
    private int evictCursor;   // guarded by lock (write)

    private void evictOldest() {
        int victim = -1;
        long oldest = Long.MAX_VALUE;
        int n = used.length;
        for (int k = 0; k < Math.min(n, EVICT_SCAN); k++) {
            int i = evictCursor;
            evictCursor = (evictCursor + 1) % n;
            if (used[i] && lastUse[i] < oldest) { oldest = lastUse[i]; victim = i; }
        }
        removeSlot(victim);   // the map is full, so every slot holds a key
    }

    /** Unlinks a slot from its chain and frees it; its own {@code next} stays, so a racing walk goes on. */
    private void removeSlot(int slot) {
        int b = slotHash[slot] & mask;
        if (buckets[b] == slot) buckets[b] = next[slot];
        else {
            int p = buckets[b];
            while (next[p] != slot) p = next[p];
            next[p] = next[slot];
        }
        used[slot] = false;
        size--;
        freeSlots[freeTop++] = slot;
    }

    private int update(MemorySegment keySeg, long keyOff, MemorySegment valSeg, long valOff, int cpu, byte[] userValue, long flags) {
        int h = hash(keySeg, keyOff);
        long stamp = lock.writeLock();
        try {
            int slot = existingSlot(h, keySeg, keyOff, flags);
            if (slot < 0 && slot != NEW) return slot;
            boolean fresh = slot == NEW;
            if (fresh) slot = allocate();
            if (userValue != null) storeUserValue(slot, userValue);
            else MemorySegment.copy(valSeg, valOff, storage, valueOffset(slot, cpu), def.valueSize());
            if (fresh) publish(slot, h, keySeg, keyOff);
            if (lru) lastUse[slot] = clock.incrementAndGet();
            return 0;
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    private int delete(MemorySegment keySeg, long keyOff) {
        int h = hash(keySeg, keyOff);
        long stamp = lock.writeLock();
        try {
            int slot = search(h, keySeg, keyOff);
            if (slot < 0) return -Errno.ENOENT;
            removeSlot(slot);
            return 0;
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    @Override public int updateFromVm(MemorySegment keySeg, long keyOff, MemorySegment valSeg, long valOff, long flags, int cpu) {
        return update(keySeg, keyOff, valSeg, valOff, cpu, null, flags);
    }

    @Override public int deleteFromVm(MemorySegment keySeg, long keyOff) { return delete(keySeg, keyOff); }

    // ---------------------------------------------------------------- Java face

    @Override public void update(byte[] key, byte[] value, long flags) throws MapException {
        checkKey(key);
        checkValue(value);
        int r = update(MemorySegment.ofArray(key), 0, null, 0, 0, value, flags);
        if (r < 0) throw new MapException(name(), "update", -r);
    }

    @Override public void delete(byte[] key) throws MapException {
        checkKey(key);
        int r = delete(MemorySegment.ofArray(key), 0);
        if (r < 0) throw new MapException(name(), "delete", -r);
    }

    /** Java-side lookups copy under the read lock, so they never see a slot being reused for another key. */
    @Override public byte[] lookup(byte[] key) {
        long stamp = lock.readLock();
        try {
            return super.lookup(key);
        } finally {
            lock.unlockRead(stamp);
        }
    }

    @Override public byte[] nextKey(byte[] key) {
        long stamp = lock.readLock();
        try {
            int from = 0;
            if (key != null) {
                checkKey(key);
                MemorySegment k = MemorySegment.ofArray(key);
                int slot = search(hash(k, 0), k, 0);
                if (slot >= 0) from = slot + 1;   // an absent key restarts from the first, as the kernel does
            }
            for (int i = from; i < used.length; i++) if (used[i]) return keyBytes(i);
            return null;
        } finally {
            lock.unlockRead(stamp);
        }
    }

    private byte[] keyBytes(int slot) {
        byte[] out = new byte[keySize];
        int base = slot * keyWords;
        for (int i = 0; i < keySize; i++) out[i] = (byte) (keys[base + (i >>> 3)] >>> ((i & 7) << 3));
        return out;
    }

    @Override public int count() { return size; }
}
