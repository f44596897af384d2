package dev.ublkctl.bpf.vm;

import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.sys.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The kernel helpers the VM provides, with the kernel's ids and semantics:
 * map lookup/update/delete (1, 2, 3), ktime_get_ns (5), trace_printk (6), get_prandom_u32 (7),
 * get_smp_processor_id (8), probe_read_kernel (113), ktime_get_boot_ns (125),
 * map_lookup_percpu_elem (195).
 */
public final class StandardHelpers {
    private StandardHelpers() {}

    public static final int MAP_LOOKUP_ELEM = 1, MAP_UPDATE_ELEM = 2, MAP_DELETE_ELEM = 3, KTIME_GET_NS = 5,
            TRACE_PRINTK = 6, GET_PRANDOM_U32 = 7, GET_SMP_PROCESSOR_ID = 8, PROBE_READ_KERNEL = 113,
            KTIME_GET_BOOT_NS = 125, LOOP = 181, MAP_LOOKUP_PERCPU_ELEM = 195;
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
