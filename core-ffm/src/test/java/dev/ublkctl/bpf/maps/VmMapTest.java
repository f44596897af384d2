package dev.ublkctl.bpf.maps;

import static org.junit.jupiter.api.Assertions.*;

import dev.ublkctl.sys.Errno;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

class VmMapTest {
    static byte[] le32(int v) { return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array(); }
    static byte[] le64(long v) { return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array(); }
    static long u64(byte[] b, int off) { return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(off); }

    static int errno(ThrowingRunnable r) {
        try {
            r.run();
        } catch (MapException e) {
            return e.errno();
        }
        fail("expected a MapException");
        return 0;
    }

    interface ThrowingRunnable { void run() throws MapException; }

    @Test
    void arraySemantics() throws MapException {
        VmMap m = VmMap.create(MapDef.of("a", MapType.ARRAY, 4, 8, 3), 1);
        assertArrayEquals(le64(0), m.lookup(le32(2)), "array entries exist zeroed");
        assertNull(m.lookup(le32(3)));
        m.update(le32(1), le64(11), VmMap.BPF_ANY);
        m.update(le32(1), le64(12), VmMap.BPF_EXIST);
        assertEquals(12, u64(m.lookup(le32(1)), 0));
        assertEquals(Errno.EEXIST, errno(() -> m.update(le32(1), le64(1), VmMap.BPF_NOEXIST)));
        assertEquals(Errno.E2BIG, errno(() -> m.update(le32(3), le64(1), VmMap.BPF_ANY)));
        assertEquals(Errno.EINVAL, errno(() -> m.update(le32(0), le64(1), 7)));
        assertEquals(Errno.EINVAL, errno(() -> m.delete(le32(0))));
        // get_next_key: null -> 0, i -> i+1, last -> end, out of range -> 0
        assertArrayEquals(le32(0), m.nextKey(null));
        assertArrayEquals(le32(2), m.nextKey(le32(1)));
        assertNull(m.nextKey(le32(2)));
        assertArrayEquals(le32(0), m.nextKey(le32(99)));
        assertEquals(3, m.count());
        assertThrows(IllegalArgumentException.class, () -> m.lookup(new byte[3]));
        assertThrows(IllegalArgumentException.class, () -> m.update(le32(0), new byte[4], 0));
    }

    @Test
    void hashSemantics() throws MapException {
        VmMap m = VmMap.create(MapDef.of("h", MapType.HASH, 8, 4, 3), 1);
        assertNull(m.lookup(le64(1)));
        assertEquals(Errno.ENOENT, errno(() -> m.update(le64(1), le32(1), VmMap.BPF_EXIST)));
        m.update(le64(1), le32(10), VmMap.BPF_NOEXIST);
        m.update(le64(2), le32(20), VmMap.BPF_ANY);
        m.update(le64(3), le32(30), VmMap.BPF_ANY);
        assertEquals(Errno.EEXIST, errno(() -> m.update(le64(1), le32(1), VmMap.BPF_NOEXIST)));
        assertEquals(Errno.E2BIG, errno(() -> m.update(le64(4), le32(40), VmMap.BPF_ANY)));
        m.update(le64(3), le32(33), VmMap.BPF_ANY);   // updating an existing key works when full
        assertArrayEquals(le32(33), m.lookup(le64(3)));
        m.delete(le64(2));
        assertEquals(Errno.ENOENT, errno(() -> m.delete(le64(2))));
        m.update(le64(4), le32(40), VmMap.BPF_ANY);   // the freed slot is reused
        Set<Long> keys = new HashSet<>();
        for (byte[] k = m.nextKey(null); k != null; k = m.nextKey(k)) assertTrue(keys.add(u64(k, 0)));
        assertEquals(Set.of(1L, 3L, 4L), keys);
        assertArrayEquals(m.nextKey(null), m.nextKey(le64(999)), "an absent key restarts iteration");
        assertEquals(3, m.count());
    }

    @Test
    void iterationSurvivesDeletingTheCurrentKeyLikeDumpLoops() throws MapException {
        VmMap m = VmMap.create(MapDef.of("h", MapType.HASH, 4, 4, 64), 1);
        for (int i = 0; i < 50; i++) m.update(le32(i), le32(i), VmMap.BPF_ANY);
        List<Integer> seen = new ArrayList<>();
        byte[] k = m.nextKey(null);
        while (k != null) {
            seen.add(ByteBuffer.wrap(k).order(ByteOrder.LITTLE_ENDIAN).getInt());
            byte[] next = m.nextKey(k);
            m.delete(k);
            k = next;
        }
        assertEquals(50, seen.size());
        assertEquals(0, m.count());
    }

    @Test
    void perCpuValuesAreConcatenatedAndPadded() throws MapException {
        VmMap m = VmMap.create(MapDef.of("p", MapType.PERCPU_HASH, 4, 4, 8), 3);
        assertEquals(3, m.cpus());
        assertEquals(24, m.userValueSize());
        byte[] v = new byte[24];
        v[0] = 1; v[8] = 2; v[16] = 3;
        m.update(le32(5), v, VmMap.BPF_ANY);
        assertArrayEquals(v, m.lookup(le32(5)));
        VmMap a = VmMap.create(MapDef.of("pa", MapType.PERCPU_ARRAY, 4, 12, 2), 2);
        assertEquals(32, a.userValueSize());
        assertEquals(32, a.lookup(le32(1)).length);
    }

    @Test
    void lruEvictsTheLeastRecentlyUsed() throws MapException {
        VmMap m = VmMap.create(MapDef.of("lru", MapType.LRU_HASH, 4, 4, 2), 1);
        m.update(le32(1), le32(1), VmMap.BPF_ANY);
        m.update(le32(2), le32(2), VmMap.BPF_ANY);
        m.findSlot(java.lang.foreign.MemorySegment.ofArray(le32(1)), 0);  // a program touches key 1
        m.update(le32(3), le32(3), VmMap.BPF_ANY);
        assertNull(m.lookup(le32(2)), "key 2 was least recently used");
        assertNotNull(m.lookup(le32(1)));
        assertNotNull(m.lookup(le32(3)));
        VmMap big = VmMap.create(MapDef.of("lru2", MapType.LRU_HASH, 4, 4, 1000), 1);
        for (int i = 0; i < 5000; i++) big.update(le32(i), le32(i), VmMap.BPF_NOEXIST);
        assertEquals(1000, big.count(), "full LRU maps evict instead of refusing");
        assertNotNull(big.lookup(le32(4999)), "the newest entry is present");
    }

    @Test
    void concurrentUpdatesDeletesAndLookupsStayConsistent() throws Exception {
        VmMap m = VmMap.create(MapDef.of("c", MapType.HASH, 4, 8, 64), 1);
        int threads = 4;
        Thread[] ts = new Thread[threads];
        Throwable[] err = new Throwable[1];
        for (int t = 0; t < threads; t++) {
            int seed = t;
            ts[t] = new Thread(() -> {
                java.util.Random r = new java.util.Random(seed);
                try {
                    for (int i = 0; i < 20_000; i++) {
                        int k = r.nextInt(80);   // more keys than slots: E2BIG happens
                        switch (r.nextInt(3)) {
                            case 0 -> {
                                try { m.update(le32(k), le64(k * 1000L), VmMap.BPF_ANY); }
                                catch (MapException e) { assertEquals(Errno.E2BIG, e.errno()); }
                            }
                            case 1 -> {
                                try { m.delete(le32(k)); }
                                catch (MapException e) { assertEquals(Errno.ENOENT, e.errno()); }
                            }
                            default -> {
                                byte[] v = m.lookup(le32(k));
                                if (v != null) assertEquals(k * 1000L, u64(v, 0));
                            }
                        }
                    }
                } catch (Throwable e) { err[0] = e; }
            });
            ts[t].start();
        }
        for (Thread t : ts) t.join();
        if (err[0] != null) throw new AssertionError(err[0]);
        int n = 0;
        for (byte[] k = m.nextKey(null); k != null; k = m.nextKey(k)) {
            n++;
            int key = ByteBuffer.wrap(k).order(ByteOrder.LITTLE_ENDIAN).getInt();
            assertEquals(key * 1000L, u64(m.lookup(k), 0));
        }
        assertEquals(m.count(), n);
        assertTrue(n <= 64);
    }

    @Test
    void badDefinitionsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> MapDef.of("x", MapType.ARRAY, 8, 4, 1));
        assertThrows(IllegalArgumentException.class, () -> MapDef.of("x", MapType.HASH, 4, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> VmMap.create(MapDef.of("x", MapType.RINGBUF, 4, 4, 4096), 1));
        assertThrows(IllegalArgumentException.class, () -> VmMap.create(MapDef.of("x", MapType.ARRAY, 4, 1 << 20, 1 << 20), 1));
    }

    @Test
    void oddKeySizesCompareEveryByte() throws MapException {
        // 13-byte keys: one full word and a 5-byte tail; keys differing only in the tail are distinct
        VmMap m = VmMap.create(MapDef.of("odd", MapType.HASH, 13, 4, 16), 1);
        Set<String> put = new HashSet<>();
        for (int i = 0; i < 13; i++) {
            byte[] k = new byte[13];
            k[i] = (byte) (i + 1);
            m.update(k, le32(i), VmMap.BPF_NOEXIST);
            put.add(java.util.Arrays.toString(k));
        }
        for (int i = 0; i < 13; i++) {
            byte[] k = new byte[13];
            k[i] = (byte) (i + 1);
            assertArrayEquals(le32(i), m.lookup(k));
            k[i] = (byte) 0x80;
            assertNull(m.lookup(k));
        }
        assertNull(m.lookup(new byte[13]));
        Set<String> seen = new HashSet<>();
        for (byte[] k = m.nextKey(null); k != null; k = m.nextKey(k)) seen.add(java.util.Arrays.toString(k));
        assertEquals(put, seen, "iteration gives back the exact key bytes");
        // a key read by a program from the middle of a segment, unaligned
        java.lang.foreign.MemorySegment seg = java.lang.foreign.MemorySegment.ofArray(new byte[40]);
        seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 3 + 4, (byte) 5);
        int slot = m.findSlot(seg, 3);
        assertTrue(slot >= 0);
        assertEquals(4, m.storage().get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, m.valueOffset(slot, 0)));
    }

    @Test
    void programLookupsStayExactWhileOtherKeysChurn() throws Exception {
        // Program-side lookups take no lock: keys that stay must always be found with their value,
        // keys never inserted never found, while writers insert and delete other keys (reusing slots).
        VmMap m = VmMap.create(MapDef.of("churn", MapType.HASH, 8, 8, 256), 1);
        for (long k = 0; k < 64; k++) m.update(le64(k), le64(k * 7), VmMap.BPF_ANY);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<Throwable> err = new java.util.concurrent.atomic.AtomicReference<>();
        Thread[] writers = new Thread[2];
        for (int t = 0; t < writers.length; t++) {
            long seed = t;
            writers[t] = Thread.ofPlatform().start(() -> {
                java.util.Random r = new java.util.Random(seed);
                try {
                    while (!stop.get()) {
                        long k = 1000 + r.nextInt(400);   // more churn keys than free slots: E2BIG happens
                        try {
                            if (r.nextBoolean()) m.update(le64(k), le64(k * 7), VmMap.BPF_ANY);
                            else m.delete(le64(k));
                        } catch (MapException e) {
                            if (e.errno() != Errno.E2BIG && e.errno() != Errno.ENOENT) throw e;
                        }
                    }
                } catch (Throwable e) { err.compareAndSet(null, e); }
            });
        }
        java.lang.foreign.MemorySegment key = java.lang.foreign.MemorySegment.ofArray(new long[1]);
        java.util.Random r = new java.util.Random(42);
        try {
            for (int i = 0; i < 300_000; i++) {
                long k = r.nextInt(64);
                key.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0, k);
                int slot = m.findSlot(key, 0);
                assertTrue(slot >= 0, "stable key " + k + " not found");
                assertEquals(k * 7, m.storage().get(java.lang.foreign.ValueLayout.JAVA_LONG, m.valueOffset(slot, 0)));
                key.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0, 5000 + k);
                assertEquals(-1, m.findSlot(key, 0), "absent key found");
            }
        } finally {
            stop.set(true);
            for (Thread t : writers) t.join();
        }
        if (err.get() != null) throw new AssertionError(err.get());
    }

    @Test
    void programLookupsAllocateNothing() throws MapException {
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        org.junit.jupiter.api.Assumptions.assumeTrue(mx instanceof com.sun.management.ThreadMXBean tm && tm.isThreadAllocatedMemorySupported(),
                "this JVM does not report per-thread allocation");
        var tm = (com.sun.management.ThreadMXBean) mx;
        for (MapType type : List.of(MapType.HASH, MapType.LRU_HASH, MapType.PERCPU_HASH)) {
            VmMap m = VmMap.create(MapDef.of("a", type, 12, 8, 128), 2);
            for (int k = 0; k < 100; k++) m.update(java.util.Arrays.copyOf(le32(k), 12), new byte[m.userValueSize()], VmMap.BPF_ANY);
            java.lang.foreign.MemorySegment key = java.lang.foreign.MemorySegment.ofArray(new byte[12]);
            long found = 0;
            for (int i = 0; i < 300_000; i++) {   // warm up: let the JIT compile the lookup
                key.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 0, i % 128);
                found += m.findSlot(key, 0) >= 0 ? 1 : 0;
            }
            long tid = Thread.currentThread().threadId();
            long before = tm.getThreadAllocatedBytes(tid);
            for (int i = 0; i < 200_000; i++) {
                key.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 0, i % 128);
                found += m.findSlot(key, 0) >= 0 ? 1 : 0;
            }
            long bytes = tm.getThreadAllocatedBytes(tid) - before;
            // a key object per lookup would be >= 200,000 * 32 bytes; allow the odd JIT/JFR allocation
            assertTrue(bytes < 200_000, type + ": " + bytes + " bytes allocated by 200,000 lookups");
            assertEquals(500_000 * 100 / 128, found, 2_000);
        }
    }

    /** An object whose maps together would take the heap is refused before anything is allocated, naming them. */
    @Test
    void mapsOfOneObjectHaveATotalBudget() {
        MapDef big = new MapDef("huge", MapType.ARRAY, 4, 1 << 20, 1024, 0);   // 1 GiB of values
        MapDef small = new MapDef("small", MapType.HASH, 8, 8, 1024, 0);
        var e = assertThrows(IllegalArgumentException.class, () -> VmMap.checkTotal("big.o", java.util.List.of(big, small), 2));
        assertTrue(e.getMessage().contains("huge 1024 MiB"), e.getMessage());
        assertTrue(e.getMessage().contains("big.o"), e.getMessage());
        VmMap.checkTotal("small.o", java.util.List.of(small), 2);
        assertTrue(VmMap.plannedBytes(small, 2) >= 1024 * 16, "keys and values counted");
        assertEquals(2 * VmMap.plannedBytes(new MapDef("p", MapType.PERCPU_ARRAY, 4, 8, 16, 0), 1),
                VmMap.plannedBytes(new MapDef("p", MapType.PERCPU_ARRAY, 4, 8, 16, 0), 2), "per-cpu copies");
    }
}
