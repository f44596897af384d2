package dev.ublkctl.bpf.vm;

import dev.ublkctl.bpf.maps.ArrayMap;
import dev.ublkctl.bpf.maps.HashTableMap;
import dev.ublkctl.bpf.maps.ProgArrayMap;
import dev.ublkctl.bpf.maps.RingBufMap;
import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.sys.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The kernel helpers the VM provides, with the kernel's ids and semantics:
 * map lookup/update/delete (1, 2, 3), ktime_get_ns (5), trace_printk (6), get_prandom_u32 (7),
 * get_smp_processor_id (8), probe_read_kernel (113), ktime_get_boot_ns (125),
 * map_lookup_percpu_elem (195), tail_call (12), spin_lock/unlock (93, 94), ringbuf_output/reserve/submit/
 * discard/query (130-134), for_each_map_elem (164).
 */
public final class StandardHelpers {
    private StandardHelpers() {}

    public static final int MAP_LOOKUP_ELEM = 1, MAP_UPDATE_ELEM = 2, MAP_DELETE_ELEM = 3, KTIME_GET_NS = 5,
            TRACE_PRINTK = 6, GET_PRANDOM_U32 = 7, GET_SMP_PROCESSOR_ID = 8, PROBE_READ_KERNEL = 113,
            KTIME_GET_BOOT_NS = 125, LOOP = 181, MAP_LOOKUP_PERCPU_ELEM = 195, TAIL_CALL = 12, SPIN_LOCK = 93,
            SPIN_UNLOCK = 94, RINGBUF_OUTPUT = 130, RINGBUF_RESERVE = 131, RINGBUF_SUBMIT = 132, RINGBUF_DISCARD = 133,
            RINGBUF_QUERY = 134, FOR_EACH_MAP_ELEM = 164;
    /** bpf_loop's limit on iterations (BPF_MAX_LOOPS). */
    public static final long MAX_LOOPS = 1 << 23;

    static void registerAll(FunctionRegistry r) {
        r.registerHelper(MAP_LOOKUP_ELEM, "bpf_map_lookup_elem", StandardHelpers::mapLookup);
        r.registerHelper(MAP_UPDATE_ELEM, "bpf_map_update_elem", StandardHelpers::mapUpdate);
        r.registerHelper(MAP_DELETE_ELEM, "bpf_map_delete_elem", StandardHelpers::mapDelete);
        r.registerHelper(KTIME_GET_NS, "bpf_ktime_get_ns", (c, a, b, d, e, f) -> System.nanoTime());
        TraceLog log = r.traceLog();
        r.registerHelper(TRACE_PRINTK, "bpf_trace_printk", (c, fmt, size, a1, a2, a3) -> printk(c, log, fmt, size, a1, a2, a3));
        r.registerHelper(GET_PRANDOM_U32, "bpf_get_prandom_u32", (c, a, b, d, e, f) -> ThreadLocalRandom.current().nextInt() & 0xffffffffL);
        r.registerHelper(GET_SMP_PROCESSOR_ID, "bpf_get_smp_processor_id", (c, a, b, d, e, f) -> c.cpu());
        r.registerHelper(PROBE_READ_KERNEL, "bpf_probe_read_kernel", StandardHelpers::probeRead);
        r.registerHelper(KTIME_GET_BOOT_NS, "bpf_ktime_get_boot_ns", (c, a, b, d, e, f) -> bootNs());
        r.registerHelper(LOOP, "bpf_loop", StandardHelpers::loop);
        r.registerHelper(MAP_LOOKUP_PERCPU_ELEM, "bpf_map_lookup_percpu_elem", StandardHelpers::mapLookupPercpu);
        r.registerHelper(TAIL_CALL, "bpf_tail_call", StandardHelpers::tailCall);
        r.registerHelper(SPIN_LOCK, "bpf_spin_lock", StandardHelpers::spinLock);
        r.registerHelper(SPIN_UNLOCK, "bpf_spin_unlock", StandardHelpers::spinUnlock);
        r.registerHelper(RINGBUF_OUTPUT, "bpf_ringbuf_output", StandardHelpers::ringbufOutput);
        r.registerHelper(RINGBUF_RESERVE, "bpf_ringbuf_reserve", StandardHelpers::ringbufReserve);
        r.registerHelper(RINGBUF_SUBMIT, "bpf_ringbuf_submit", (c, d, f, a, b, e) -> ringbufCommit(c, d, false));
        r.registerHelper(RINGBUF_DISCARD, "bpf_ringbuf_discard", (c, d, f, a, b, e) -> ringbufCommit(c, d, true));
        r.registerHelper(RINGBUF_QUERY, "bpf_ringbuf_query", (c, m, f, a, b, e) -> ring(c, m, "bpf_ringbuf_query").query(f));
        r.registerHelper(FOR_EACH_MAP_ELEM, "bpf_for_each_map_elem", StandardHelpers::forEachMapElem);
    }

    // ---------------------------------------------------------------- tail calls

    /**
     * bpf_tail_call(ctx, prog_array, index) as the kernel's interpreter: an index past max_entries, a 34th
     * tail call in one run or an empty slot fall through (the call returns, r0 is not meant to be read);
     * otherwise the target replaces the running program with r1 = ctx and never returns here. The count goes
     * up before the slot is read, as in the kernel. The VM takes tail calls from the main frame only.
     */
    static long tailCall(VmContext c, long ctxArg, long mapPtr, long index, long r4, long r5) throws VmFault {
        VmMap m = c.map(mapPtr);
        if (!(m instanceof ProgArrayMap pa))
            throw VmFault.helper("bpf_tail_call on map " + m.name() + ", which is not a PROG_ARRAY");
        if (c.depth != 0)
            throw VmFault.helper("bpf_tail_call from frame " + c.depth + ": the VM takes tail calls from a program's main"
                    + " function only, not from bpf-to-bpf functions or callbacks");
        if (c.heldLock != 0 || c.reservations != null && !c.reservations.isEmpty())
            throw VmFault.helper("bpf_tail_call while holding a bpf_spin_lock or a ring buffer record (the verifier refuses this)");
        long idx = index & 0xffffffffL;
        if (idx >= m.def().maxEntries() || c.tailCalls >= VmContext.MAX_TAIL_CALLS) return -Errno.ENOENT;
        c.tailCalls++;
        ProgArrayMap.Program target = pa.program(idx);
        if (target == null) return -Errno.ENOENT;
        throw c.tailCall((VmProgram) target, ctxArg);
    }

    // ---------------------------------------------------------------- spin locks

    private static final VarHandle LOCK_WORD = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    /** The segment and offset of a {@code struct bpf_spin_lock} (4 aligned bytes in a map value). */
    private static MemorySegment lockWord(VmContext c, long lock, String helper) throws VmFault {
        MemorySegment s = c.segmentOf(lock, 4, true);
        int rid = (int) (lock >>> 32);
        if (rid <= 0 || rid >= c.count || !(c.owner[rid] instanceof VmMap))
            throw VmFault.helper(helper + ": the lock is not in a map value (" + c.regionName(rid) + ")");
        if ((c.offsetOf(lock) & 3) != 0) throw VmFault.helper(helper + ": the lock is not 4-byte aligned");
        return s;
    }

    /**
     * bpf_spin_lock: a real lock on the 4-byte word, so programs running on several queues at once exclude
     * each other. One lock at a time per run, as the verifier requires; the run must unlock it before it
     * exits (a fault or a budget overrun unlocks it).
     */
    static long spinLock(VmContext c, long lock, long r2, long r3, long r4, long r5) throws VmFault {
        if (c.heldLock != 0)
            throw VmFault.helper("bpf_spin_lock while holding another bpf_spin_lock (the verifier allows one at a time)");
        MemorySegment s = lockWord(c, lock, "bpf_spin_lock");
        long o = c.offsetOf(lock);
        for (int spins = 0; !LOCK_WORD.compareAndSet(s, o, 0, 1); spins++) {
            if (spins < 100) Thread.onSpinWait();
            else Thread.yield();   // the holder may be a thread that is not running
        }
        c.holdLock(lock, s, o);
        return 0;
    }

    static long spinUnlock(VmContext c, long lock, long r2, long r3, long r4, long r5) throws VmFault {
        if (c.heldLock != lock)
            throw VmFault.helper("bpf_spin_unlock of a lock this program does not hold");
        MemorySegment s = lockWord(c, lock, "bpf_spin_unlock");
        LOCK_WORD.setRelease(s, c.offsetOf(lock), 0);
        c.dropLock();
        return 0;
    }

    // ---------------------------------------------------------------- ring buffers

    private static RingBufMap ring(VmContext c, long mapPtr, String helper) throws VmFault {
        VmMap m = c.map(mapPtr);
        if (!(m instanceof RingBufMap rb)) throw VmFault.helper(helper + " on map " + m.name() + ", which is not a RINGBUF");
        return rb;
    }

    /** bpf_ringbuf_output(ringbuf, data, size, flags): 0, -EINVAL for unknown flags, -EAGAIN when full. */
    static long ringbufOutput(VmContext c, long mapPtr, long data, long size, long flags, long r5) throws VmFault {
        RingBufMap rb = ring(c, mapPtr, "bpf_ringbuf_output");
        if ((flags & ~(RingBufMap.RB_NO_WAKEUP | RingBufMap.RB_FORCE_WAKEUP)) != 0) return -Errno.EINVAL;
        MemorySegment src = c.segment(data, size, false);
        long pos = rb.reserve(size);
        if (pos < 0) return -Errno.EAGAIN;
        rb.write(pos, src);
        rb.commit(pos, false);
        return 0;
    }

    /** bpf_ringbuf_reserve(ringbuf, size, flags): the sample's address, or NULL (full, too big, flags set). */
    static long ringbufReserve(VmContext c, long mapPtr, long size, long flags, long r4, long r5) throws VmFault {
        RingBufMap rb = ring(c, mapPtr, "bpf_ringbuf_reserve");
        if (flags != 0) return 0;
        long pos = rb.reserve(size);
        return pos < 0 ? 0 : c.addReservation(rb, pos, size);
    }

    /** bpf_ringbuf_submit / bpf_ringbuf_discard(data, flags): the record must be one this run reserved. */
    static long ringbufCommit(VmContext c, long data, boolean discard) throws VmFault {
        VmContext.Reservation r = c.takeReservation(data);
        if (r == null)
            throw VmFault.helper((discard ? "bpf_ringbuf_discard" : "bpf_ringbuf_submit") + String.format(
                    ": 0x%x is not a ring buffer record this run reserved (or it was submitted or discarded already)", data));
        VmContext.commit(r, discard);
        return 0;
    }

    // ---------------------------------------------------------------- for_each_map_elem

    /**
     * bpf_for_each_map_elem(map, callback, ctx, flags): callback(map, &key, &value, ctx) for each element of
     * an array or hash map (per-cpu maps: this cpu's value) until it returns non-zero; returns the number of
     * callbacks made (the stopping one included), -EINVAL for flags. Keys are read-only, values writable as
     * lookups give them. Hash maps go in the VM's slot order, not the kernel's bucket order.
     */
    private static final ValueLayout.OfInt KEY_U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static long forEachMapElem(VmContext c, long mapPtr, long fn, long cbCtx, long flags, long r5) throws VmFault {
        VmMap m = c.map(mapPtr);
        if (flags != 0) return -Errno.EINVAL;
        if (!(m instanceof ArrayMap) && !(m instanceof HashTableMap))
            throw VmFault.helper("bpf_for_each_map_elem on " + m.def().type() + " map " + m.name() + " (arrays and hash maps only)");
        int cpu = cpuOf(c, m);
        MemorySegment keySeg = MemorySegment.ofArray(new long[(m.def().keySize() + 7) / 8]).asSlice(0, m.def().keySize());
        long keyAddr = c.addRegion(keySeg, false, "key of map " + m.name());
        long n = 0;
        if (m instanceof ArrayMap) {
            for (int i = 0; i < m.def().maxEntries(); i++) {
                keySeg.set(KEY_U32, 0, i);
                n++;
                if (c.callFunction(fn, mapPtr, keyAddr, c.mapValuePointer(m, i, cpu), cbCtx, 0) != 0) break;
            }
            return n;
        }
        // the keys first: a callback may delete elements, which must not restart or derail the walk
        List<byte[]> keys = new ArrayList<>();
        for (byte[] k = m.nextKey(null); k != null && keys.size() <= m.def().maxEntries(); k = m.nextKey(k)) keys.add(k);
        for (byte[] k : keys) {
            MemorySegment.copy(MemorySegment.ofArray(k), 0, keySeg, 0, k.length);
            int slot = m.findSlot(keySeg, 0);
            if (slot < 0) continue;   // deleted by an earlier callback
            n++;
            if (c.callFunction(fn, mapPtr, keyAddr, c.mapValuePointer(m, slot, cpu), cbCtx, 0) != 0) break;
        }
        return n;
    }

    static long mapLookup(VmContext c, long mapPtr, long key, long r3, long r4, long r5) throws VmFault {
        VmMap m = c.map(mapPtr);
        return lookupOn(c, m, key, cpuOf(c, m));
    }

    private static int cpuOf(VmContext c, VmMap m) throws VmFault {
        if (!m.perCpu()) return 0;
        int cpu = c.cpu();
        if (cpu < 0 || cpu >= m.cpus())
            throw VmFault.helper("the context's cpu " + cpu + " is outside per-cpu map " + m.name() + " (" + m.cpus() + " cpus)");
        return cpu;
    }

    private static long lookupOn(VmContext c, VmMap m, long key, int cpu) throws VmFault {
        int ks = m.def().keySize();
        MemorySegment s = c.segmentOf(key, ks, false);
        int slot = m.findSlot(s, c.offsetOf(key));
        return slot < 0 ? 0 : c.mapValuePointer(m, slot, cpu);
    }

    static long mapLookupPercpu(VmContext c, long mapPtr, long key, long cpu, long r4, long r5) throws VmFault {
        VmMap m = c.map(mapPtr);
        if (!m.perCpu()) throw VmFault.helper("bpf_map_lookup_percpu_elem on map " + m.name() + ", which is not per-cpu");
        if (cpu < 0 || cpu >= m.cpus()) return 0;
        return lookupOn(c, m, key, (int) cpu);
    }

    static long mapUpdate(VmContext c, long mapPtr, long key, long value, long flags, long r5) throws VmFault {
        VmMap m = c.map(mapPtr);
        MemorySegment ks = c.segmentOf(key, m.def().keySize(), false);
        long ko = c.offsetOf(key);
        MemorySegment vs = c.segmentOf(value, m.def().valueSize(), false);
        long vo = c.offsetOf(value);
        return m.updateFromVm(ks, ko, vs, vo, flags, cpuOf(c, m));
    }

    static long mapDelete(VmContext c, long mapPtr, long key, long r3, long r4, long r5) throws VmFault {
        VmMap m = c.map(mapPtr);
        MemorySegment ks = c.segmentOf(key, m.def().keySize(), false);
        return m.deleteFromVm(ks, c.offsetOf(key));
    }

    /** Copies {@code size} bytes from {@code src} to {@code dst}; a bad source zeroes dst and returns -EFAULT. */
    static long probeRead(VmContext c, long dst, long size, long src, long r4, long r5) throws VmFault {
        if (size < 0 || size > Integer.MAX_VALUE) throw VmFault.helper("bpf_probe_read_kernel: bad size " + size);
        MemorySegment d = c.segment(dst, size, true);
        MemorySegment s;
        try {
            s = c.segment(src, size, false);
        } catch (VmFault f) {
            d.fill((byte) 0);
            return -Errno.EFAULT;
        }
        MemorySegment.copy(s, 0, d, 0, size);
        return 0;
    }

    /** bpf_loop(nr, callback, ctx, flags): callback(i, ctx) for i &lt; nr until it returns non-zero; returns the count. */
    static long loop(VmContext c, long nr, long fn, long cbCtx, long flags, long r5) throws VmFault {
        if (flags != 0) return -Errno.EINVAL;
        if (Long.compareUnsigned(nr, MAX_LOOPS) > 0) return -Errno.E2BIG;
        long i = 0;
        for (; i < nr; i++) {
            if (c.callFunction(fn, i, cbCtx, 0, 0, 0) != 0) return i + 1;
        }
        return i;
    }

    /** CLOCK_BOOTTIME: CLOCK_MONOTONIC plus time spent suspended, from clock_gettime(2). */
    private static long bootNs() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ts = a.allocate(16, 8);
            dev.ublkctl.sys.Libc.syscall(228 /* clock_gettime */, 7 /* CLOCK_BOOTTIME */, ts.address(), 0, 0, 0, 0);
            return ts.get(ValueLayout.JAVA_LONG, 0) * 1_000_000_000L + ts.get(ValueLayout.JAVA_LONG, 8);
        }
    }

    /**
     * bpf_trace_printk(fmt, fmt_size, a1, a2, a3): the kernel's subset of printf (%d %i %u %x %X %ld %lu %lx
     * %lld %llu %llx %p %s %c %%, with flags and width). The line goes to the {@link TraceLog} prefixed with
     * the program name; returns the number of bytes written, as the kernel does.
     */
    static long printk(VmContext c, TraceLog log, long fmt, long fmtSize, long a1, long a2, long a3) throws VmFault {
        if (fmtSize <= 0 || fmtSize > 1024) return -Errno.EINVAL;
        String f = c.readCString(fmt, (int) fmtSize);
        long[] args = {a1, a2, a3};
        StringBuilder out = new StringBuilder();
        int argi = 0;
        for (int i = 0; i < f.length(); i++) {
            char ch = f.charAt(i);
            if (ch != '%') { out.append(ch); continue; }
            int start = i++;
            while (i < f.length() && "-+ #0".indexOf(f.charAt(i)) >= 0) i++;
            while (i < f.length() && Character.isDigit(f.charAt(i))) i++;
            int lcount = 0;
            while (i < f.length() && f.charAt(i) == 'l') { lcount++; i++; }
            if (i >= f.length()) return -Errno.EINVAL;
            char conv = f.charAt(i);
            if (conv == '%') { out.append('%'); continue; }
            if (argi >= 3) return -Errno.EINVAL;
            long v = args[argi++];
            String spec = f.substring(start, i - lcount);
            boolean wide = lcount > 0;
            try {
              switch (conv) {
                case 'd', 'i' -> out.append(String.format(spec + "d", wide ? v : (long) (int) v));
                case 'u' -> out.append(String.format(spec + "d", wide ? new java.math.BigInteger(Long.toUnsignedString(v)) : v & 0xffffffffL));
                case 'x', 'X' -> out.append(String.format(spec + conv, wide ? v : v & 0xffffffffL));
                case 'p' -> out.append(String.format("0x%x", v));
                case 'c' -> out.append((char) (v & 0xff));
                case 's' -> out.append(String.format(spec + "s", c.readCString(v, 1024)));
                default -> { return -Errno.EINVAL; }
              }
            } catch (java.util.IllegalFormatException bad) {
                return -Errno.EINVAL;
            }
        }
        String msg = out.toString();
        String name = c.program() == null ? "?" : c.program().name();
        log.append(name + ": " + (msg.endsWith("\n") ? msg.substring(0, msg.length() - 1) : msg));
        return msg.length();
    }
}
