package dev.ublkctl.bpf.vm;

import dev.ublkctl.bpf.maps.RingBufMap;
import dev.ublkctl.bpf.maps.VmMap;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;

/**
 * Per-thread execution state: registers, call frames, the stacks and the region table that maps
 * VM addresses to memory. Reuse one per thread (a queue thread keeps its own); not thread-safe.
 *
 * <h2>Address encoding</h2>
 * A VM address is {@code (regionId << 32) | offset}: the high 32 bits select a region, the low 32 bits are
 * the byte offset inside it. Region 0 is never mapped, so NULL and small integers fault. Regions are at
 * most 2 GiB, so pointer arithmetic that runs off either end of a region lands at an offset ≥ 2^31 (or
 * in a neighbouring region id at such an offset) and faults. Fixed ids:
 * <ul>
 *   <li>1..8: the 512-byte stacks of call frames 0..7 ({@code r10} = region base + 512)</li>
 *   <li>9: the struct_ops argument array ({@link #setArgs})</li>
 *   <li>10..265: direct value access of the running program's maps ({@code ld_imm64} src 2)</li>
 *   <li>266..1289: map values returned by lookups, kept across runs of the same program (a lookup of
 *       the same value in a later run is a table read; see {@link #mapValuePointer})</li>
 *   <li>1290..: regions added by the caller ({@link #addRegion}: ctx, packet data, ublk io objects),
 *       then regions created during a run (kfunc objects, and map values when their lookup zone slot is
 *       taken by another value of the same run), which are dropped when the run ends</li>
 * </ul>
 * Map pointers ({@code ld_imm64} src 1) are {@code (0x7f000000 + mapIndex) << 32}: helpers accept them,
 * loads and stores through them fault.
 */
public final class VmContext {
    public static final int STACK_SIZE = 512, MAX_FRAMES = 8, MAX_ARGS = 12;
    public static final long DEFAULT_BUDGET = 1_000_000;
    static final int REGION_STACK0 = 1, REGION_ARGS = 9, REGION_STATIC0 = 10, MAX_STATIC = 256,
            REGION_VALUE0 = REGION_STATIC0 + MAX_STATIC, VALUE_ZONE = 1024,
            FIRST_USER = REGION_VALUE0 + VALUE_ZONE;
    static final int MAP_PTR_BASE = 0x7f000000;
    /** Most regions one context holds (caller regions plus those created in one run). */
    public static final int MAX_REGIONS = 1 << 20;
    static final byte WRITABLE = 1, ATOMIC_OK = 2;

    static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    // region table (parallel arrays: no object per region)
    MemorySegment[] seg = new MemorySegment[FIRST_USER + 64];
    long[] base = new long[seg.length];
    int[] len = new int[seg.length];
    byte[] flags = new byte[seg.length];
    Object[] owner = new Object[seg.length];   // String name or VmMap, for fault messages
    int count = FIRST_USER;
    /** Region of the 32-bit packet window, or 0. */
    int packetRid;

    final long[] regs = new long[11];
    final int[] retPc = new int[MAX_FRAMES];
    final long[] saved = new long[MAX_FRAMES * 5];
    private final MemorySegment args = MemorySegment.ofArray(new long[MAX_ARGS]);
    /** The stacks' memory (region 1 + frame is a view of it): generated code indexes it directly. */
    private final long[][] stackWords = new long[MAX_FRAMES][];

    VmProgram installed;
    /** Static regions the installed program set (the next install clears up to here). */
    private int staticsInstalled;
    VmProgram program;
    /** Run state shared with helpers: instructions left, current frame, the engine for callbacks. */
    long remaining;
    int depth;
    CallbackRunner callbacks;

    /** How an engine runs a BPF callback function for a helper such as bpf_loop. */
    public interface CallbackRunner {
        long runCallback(VmProgram p, VmContext ctx, int pc, int depth, long r1, long r2, long r3, long r4, long r5) throws VmFault;
    }

    static final int FUNC_PTR_BASE = 0x7e000000;

    static long funcPointer(int pc) { return ((long) FUNC_PTR_BASE << 32) | pc; }

    /**
     * Calls the BPF function at {@code funcPointer} (from {@code ld_imm64} src 4) of the running program as a
     * new frame, on this run's instruction budget, and returns its r0 (for helpers such as bpf_loop).
     */
    public long callFunction(long funcPointer, long r1, long r2, long r3, long r4, long r5) throws VmFault {
        int pc = (int) funcPointer;
        if ((int) (funcPointer >>> 32) != FUNC_PTR_BASE || program == null || pc < 0 || pc >= program.length()
                || !program.isFunctionStart(pc))
            throw VmFault.helper(String.format("0x%x is not a function of program %s", funcPointer,
                    program == null ? "?" : program.name()));
        if (depth + 1 >= MAX_FRAMES)
            throw VmFault.of(VmFault.Kind.CALL_DEPTH, "callback call depth exceeds " + MAX_FRAMES + " frames");
        int saveDepth = depth;
        try {
            return callbacks.runCallback(program, this, pc, depth + 1, r1, r2, r3, r4, r5);
        } finally {
            depth = saveDepth;
        }
    }
    private int cpu;
    private long budget = DEFAULT_BUDGET;

    // the lookup zone: which (map, slot * cpus + cpu) region VALUE0 + i holds, and the run that last handed it out
    private final VmMap[] zoneMap = new VmMap[VALUE_ZONE];
    private final int[] zoneKey = new int[VALUE_ZONE];
    private final int[] zoneGen = new int[VALUE_ZONE];
    /** The zone slots in use (so clearing costs what was used, not the whole zone). */
    private final int[] zoneSlots = new int[VALUE_ZONE];
    private int zoneUsed;
    // lookup results of one run that did not get a zone slot, so repeated lookups of one value reuse its region
    private static final int CACHE = 64;
    private final Object[] cacheMap = new Object[CACHE];
    private final int[] cacheKey = new int[CACHE];
    private final int[] cacheRid = new int[CACHE];
    private final int[] cacheGen = new int[CACHE];
    private int gen = 1;

    public VmContext() { this(0); }

    /** @param cpu the cpu number this thread acts as (per-cpu maps, {@code bpf_get_smp_processor_id}) */
    public VmContext(int cpu) {
        this.cpu = cpu;
        for (int f = 0; f < MAX_FRAMES; f++) {
            stackWords[f] = new long[STACK_SIZE / 8];
            setRegion(REGION_STACK0 + f, MemorySegment.ofArray(stackWords[f]), 0, STACK_SIZE, true, "stack of frame " + f);
        }
        setRegion(REGION_ARGS, args, 0, 0, false, "struct_ops arguments");
    }

    /** What runs programs on this context (e.g. a ublk queue), for kfuncs that act on it; null if none. */
    private Object host;

    public Object host() { return host; }
    public void setHost(Object host) { this.host = host; }

    public int cpu() { return cpu; }
    public void setCpu(int cpu) { this.cpu = cpu; }
    /** Instructions one run may execute before it faults. */
    public long budget() { return budget; }
    public void setBudget(long budget) {
        if (budget <= 0) throw new IllegalArgumentException("budget must be positive");
        this.budget = budget;
    }
    /** The program running now (or last run). */
    public VmProgram program() { return program; }

    // ------------------------------------------------------------------ regions

    private void setRegion(int rid, MemorySegment s, long b, int l, boolean writable, Object who) {
        seg[rid] = s;
        base[rid] = b;
        len[rid] = l;
        boolean atomicOk = s.maxByteAlignment() >= 8 && (s.isNative() ? (s.address() + b) % 8 == 0 : b % 8 == 0);
        flags[rid] = (byte) ((writable && !s.isReadOnly() ? WRITABLE : 0) | (atomicOk ? ATOMIC_OK : 0));
        owner[rid] = who;
    }

    private int newRegion() {
        if (count == seg.length) {
            if (count >= MAX_REGIONS)
                throw new IllegalStateException("too many memory regions (" + MAX_REGIONS + ") in one context");
            int n = Math.min(MAX_REGIONS, seg.length * 2);
            seg = Arrays.copyOf(seg, n);
            base = Arrays.copyOf(base, n);
            len = Arrays.copyOf(len, n);
            flags = Arrays.copyOf(flags, n);
            owner = Arrays.copyOf(owner, n);
        }
        return count++;
    }

    /**
     * Maps {@code segment} into the VM and returns the address of its first byte. Added before a run,
     * the region stays until {@link #clearRegions()} or {@link #release}; added during a run (by a kfunc),
     * it is dropped when the run ends.
     */
    public long addRegion(MemorySegment segment, boolean writable, String name) {
        if (segment.byteSize() > Integer.MAX_VALUE)
            throw new IllegalArgumentException("region " + name + " is larger than 2 GiB");
        int rid = newRegion();
        setRegion(rid, segment, 0, (int) segment.byteSize(), writable, name);
        return (long) rid << 32;
    }

    public long addRegion(byte[] data, boolean writable, String name) {
        return addRegion(MemorySegment.ofArray(data), writable, name);
    }

    /** Where the packet window starts: far above NULL and small scalars, which still fault. */
    public static final int PACKET_BASE = 0x1000_0000;

    /**
     * Maps packet data at a 32-bit address, {@link #PACKET_BASE}, and returns it. Context structs
     * such as {@code struct xdp_md} hold packet pointers in 32-bit fields that programs load with
     * {@code LDX W} and then dereference, as the kernel's context rewriting allows; a full 64-bit
     * region address would not survive that. At most one packet window exists per context.
     */
    public long addPacketRegion(MemorySegment segment, boolean writable, String name) {
        if (segment.byteSize() > Integer.MAX_VALUE - PACKET_BASE)
            throw new IllegalArgumentException("packet " + name + " is too large: " + segment.byteSize() + " bytes");
        if (packetRid != 0) throw new IllegalStateException("a packet region is mapped already");
        int rid = newRegion();
        // base is shifted so that the common path's base[rid] + (int) addr lands on the packet's first byte
        setRegion(rid, segment, -(long) PACKET_BASE, (int) segment.byteSize(), writable, name);
        packetRid = rid;
        return PACKET_BASE;
    }

    /** Current end of the region table, to {@link #release} back to. */
    public int mark() { return count; }

    /** Drops every region added after {@code mark}. */
    public void release(int mark) {
        if (mark < FIRST_USER || mark > count) throw new IllegalArgumentException("bad region mark " + mark);
        for (int i = mark; i < count; i++) { seg[i] = null; owner[i] = null; }
        if (packetRid >= mark) packetRid = 0;
        count = mark;
        gen++;
    }

    /** Drops all caller-added regions (and the lookup zone). */
    public void clearRegions() {
        release(FIRST_USER);
        clearZone();
    }

    private void clearZone() {
        for (int k = 0; k < zoneUsed; k++) {
            int i = zoneSlots[k];
            zoneMap[i] = null;
            seg[REGION_VALUE0 + i] = null;
            owner[REGION_VALUE0 + i] = null;
            len[REGION_VALUE0 + i] = 0;
            flags[REGION_VALUE0 + i] = 0;
        }
        zoneUsed = 0;
    }

    /** Address of the value of {@code slot} of {@code map} for {@code cpu}, as a lookup hands it to a program. */
    public long mapValuePointer(VmMap map, int slot, int cpu) {
        if (slot < 0 || slot >= map.def().maxEntries() || cpu < 0 || cpu >= map.cpus())
            throw new IllegalArgumentException("slot " + slot + " / cpu " + cpu + " outside map " + map.name());
        int key = slot * map.cpus() + cpu;
        // A value's memory never moves while its map lives, so its region can outlive the run: the zone
        // keeps it for later runs (begin() clears the zone when a program with other maps runs, so a
        // context does not hold on to the maps of a program it no longer runs). A slot handed out earlier in this same run is never
        // taken over (a pointer the run holds must keep its memory): then the value gets a per-run region.
        // from the map's name, not its identity: the same program on the same maps gets the same addresses
        // in every context (the engines are compared byte for byte, pointers stored in memory included)
        int z = ((map.name().hashCode() * 0x9e3779b1 + key * 0x85ebca6b) >>> 22);   // top 10 bits: VALUE_ZONE == 1024
        int zr = REGION_VALUE0 + z;
        if (zoneMap[z] == map && zoneKey[z] == key) {
            zoneGen[z] = gen;
            return (long) zr << 32;
        }
        if (zoneGen[z] != gen || zoneMap[z] == null) {
            if (zoneMap[z] == null) zoneSlots[zoneUsed++] = z;
            seg[zr] = map.storage();
            base[zr] = map.valueOffset(slot, cpu);
            len[zr] = map.def().valueSize();
            flags[zr] = (byte) ((map.programWritable() ? WRITABLE : 0) | ATOMIC_OK);
            owner[zr] = map;
            zoneMap[z] = map;
            zoneKey[z] = key;
            zoneGen[z] = gen;
            return (long) zr << 32;
        }
        int h = (map.uid * 0x9e3779b1 + key * 31) >>> 26;   // top 6 bits: CACHE == 64
        if (cacheGen[h] == gen && cacheMap[h] == map && cacheKey[h] == key) return (long) cacheRid[h] << 32;
        int rid = newRegion();
        // map storage is a long[] segment and values start 8-byte aligned: hardware atomics always work
        seg[rid] = map.storage();
        base[rid] = map.valueOffset(slot, cpu);
        len[rid] = map.def().valueSize();
        flags[rid] = (byte) ((map.programWritable() ? WRITABLE : 0) | ATOMIC_OK);
        owner[rid] = map;
        cacheGen[h] = gen;
        cacheMap[h] = map;
        cacheKey[h] = key;
        cacheRid[h] = rid;
        return (long) rid << 32;
    }

    /** Sets the struct_ops argument array (u64 each) and returns its address, the {@code r1} of a struct_ops call. */
    public long setArgs(long... values) {
        if (values.length > MAX_ARGS) throw new IllegalArgumentException("at most " + MAX_ARGS + " arguments");
        for (int i = 0; i < values.length; i++) args.setAtIndex(ValueLayout.JAVA_LONG, i, values[i]);
        len[REGION_ARGS] = values.length * 8;
        return argsAddress();
    }

    public long argsAddress() { return (long) REGION_ARGS << 32; }

    /** {@code r10} of call frame {@code frame}: one past the top of its stack. */
    public static long stackPointer(int frame) { return ((long) (REGION_STACK0 + frame) << 32) + STACK_SIZE; }

    /** Prepares the table for a run of {@code p}; returns the mark to release to afterwards. */
    int begin(VmProgram p) {
        program = p;
        if (installed != p) {
            // the callbacks of one object alternate on a context and usually see the same global data:
            // reinstall only when it differs, and only as far as either program's maps reach
            if (installed == null || !sameStatics(installed, p)) {
                int n = p.staticSeg.length, upto = Math.min(MAX_STATIC, Math.max(n, staticsInstalled));
                for (int i = 0; i < upto; i++) {
                    if (i < n && p.staticSeg[i] != null)
                        setRegion(REGION_STATIC0 + i, p.staticSeg[i], p.staticBase[i], p.staticLen[i], p.maps[i].programWritable(), p.maps[i]);
                    else { seg[REGION_STATIC0 + i] = null; len[REGION_STATIC0 + i] = 0; flags[REGION_STATIC0 + i] = 0; owner[REGION_STATIC0 + i] = null; }
                }
                staticsInstalled = n;
            }
            // the struct_ops callbacks of one object share its maps and alternate on a queue's context
            // (queue_io_cmd, then the aio callback): keep the zone; a program with other maps drops it,
            // so a context never holds on to the maps of a program it no longer runs
            if (installed == null || !Arrays.equals(installed.maps, p.maps)) clearZone();
            installed = p;
        }
        gen++;
        return count;
    }

    /** Whether {@code a} and {@code b} see the same global-data regions (same maps, same direct value use). */
    private static boolean sameStatics(VmProgram a, VmProgram b) {
        int n = a.maps.length;
        if (b.maps.length != n) return false;
        for (int i = 0; i < n; i++) {
            if (a.maps[i] != b.maps[i] || a.staticSeg[i] != b.staticSeg[i] || a.staticBase[i] != b.staticBase[i]
                    || a.staticLen[i] != b.staticLen[i]) return false;
        }
        return true;
    }

    /** Ends a run: drops regions created during it (and what a faulted run left held: lock, ring records). */
    void end(int mark) {
        if (heldLock != 0 || reservations != null && !reservations.isEmpty()) releaseAll();
        if (count != mark) {
            for (int i = mark; i < count; i++) { seg[i] = null; owner[i] = null; }
            if (packetRid >= mark) packetRid = 0;
            count = mark;
        }
    }

    // ------------------------------------------------------------------ tail calls, locks, ring records

    /** Most tail calls one run makes (the kernel's MAX_TAIL_CALL_CNT). */
    public static final int MAX_TAIL_CALLS = 33;
    int tailCalls;
    private VmProgram tailTarget;
    private long tailContext;

    /** Called by bpf_tail_call when the jump is taken: records the target, then unwinds with {@link TailCall}. */
    TailCall tailCall(VmProgram target, long context) {
        tailTarget = target;
        tailContext = context;
        return TailCall.INSTANCE;
    }

    /** The program a {@link TailCall} goes to, and its r1 (the caller's context). */
    public VmProgram tailTarget() { return tailTarget; }
    public long tailContext() { return tailContext; }

    /**
     * After a {@link TailCall}: drops what the replaced program created and installs {@code p}'s global data;
     * the budget and the tail call count go on.
     */
    public void retarget(VmProgram p, int mark) {
        end(mark);
        begin(p);
        tailTarget = null;
    }

    /** The bpf_spin_lock word this run holds (a VM address), or 0. */
    long heldLock;
    private MemorySegment heldLockSeg;
    private long heldLockOff;

    /** A ring buffer record reserved in this run: its region, where it goes, and a bounce buffer if it wraps. */
    record Reservation(int rid, RingBufMap ring, long pos, MemorySegment bounce) {}
    ArrayList<Reservation> reservations;

    void holdLock(long addr, MemorySegment s, long off) { heldLock = addr; heldLockSeg = s; heldLockOff = off; }
    void dropLock() { heldLock = 0; heldLockSeg = null; }

    /** The reservation whose sample starts at {@code addr}, removed from the run's list; null if none. */
    Reservation takeReservation(long addr) {
        if (reservations == null || (int) addr != 0) return null;
        int rid = (int) (addr >>> 32);
        for (int i = 0; i < reservations.size(); i++) {
            if (reservations.get(i).rid() == rid) return reservations.remove(i);
        }
        return null;
    }

    long addReservation(RingBufMap ring, long pos, long size) {
        if (reservations == null) reservations = new ArrayList<>(4);
        int rid = newRegion();
        MemorySegment bounce = null;
        if (ring.contiguous(pos, size)) {
            setRegion(rid, ring.data(), ring.offset(pos) + RingBufMap.HDR_SIZE, (int) size, true,
                    "ring buffer record of " + ring.name());
        } else {   // the kernel maps the area twice so a record can wrap; here the sample waits in a bounce buffer
            bounce = MemorySegment.ofArray(new long[(int) ((size + 7) / 8)]).asSlice(0, size);
            ring.read(pos, bounce);   // a sample is not cleared: it starts with what the area held
            setRegion(rid, bounce, 0, (int) size, true, "ring buffer record of " + ring.name());
        }
        reservations.add(new Reservation(rid, ring, pos, bounce));
        return (long) rid << 32;
    }

    /** Commits a reservation: copies a bounce buffer in, clears busy (and sets discard). */
    static void commit(Reservation r, boolean discard) {
        if (r.bounce() != null && !discard) r.ring().write(r.pos(), r.bounce());
        r.ring().commit(r.pos(), discard);
    }

    /** After a program's final exit: a lock or a ring record still held is a fault (the verifier refuses such programs). */
    public void checkReleased(VmProgram p) throws VmFault {
        if (heldLock == 0 && (reservations == null || reservations.isEmpty())) return;
        String what = heldLock != 0 ? "holding a bpf_spin_lock" : reservations.size() + " ring buffer record(s) neither submitted nor discarded";
        releaseAll();
        throw VmFault.helper("program exited " + what + " (the kernel's verifier refuses such a program)").at(p.name(), -1, null);
    }

    private void releaseAll() {
        if (heldLock != 0) {
            heldLockSeg.set(U32, heldLockOff, 0);
            VarHandle.fullFence();
            dropLock();
        }
        if (reservations != null) {
            for (Reservation r : reservations) r.ring().commit(r.pos(), true);
            reservations.clear();
        }
    }

    // ------------------------------------------------------------------ engine SPI
    // For execution engines outside this package (a JIT): the same run protocol the Interpreter follows.

    /** Starts a run of {@code p}: installs its global-data regions; returns the mark for {@link #endRun}. */
    public int beginRun(VmProgram p, CallbackRunner runner) {
        int mark = begin(p);
        remaining = budget;
        callbacks = runner;
        tailCalls = 0;
        return mark;
    }

    /** Ends a run: drops the regions created during it. */
    public void endRun(int mark) { end(mark); }

    /**
     * Instructions the last run executed (callbacks included). For a run that faulted inside a callback
     * the callback's own instructions may be missing from the count.
     */
    public long lastRunInstructions() { return budget - remaining; }

    /** Instructions left in this run; engines store theirs before helper calls and reload after. */
    public long remainingBudget() { return remaining; }
    public void setRemainingBudget(long n) { remaining = n; }
    /** The frame a helper is called from (engines set it before helper calls, for callbacks). */
    public void setCallDepth(int d) { depth = d; }

    /** Region id of {@code [addr, addr+size)} after bounds and permission checks (the hot path of loads and stores). */
    public int checkAccess(long addr, int size, boolean write) throws VmFault { return check(addr, size, write); }
    /** Segment of region {@code rid} (valid after {@link #checkAccess}). */
    public MemorySegment regionSegment(int rid) { return seg[rid]; }
    /** Offset of region {@code rid}'s first byte in its segment. */
    public long regionBase(int rid) { return base[rid]; }
    /** Whether region {@code rid} takes hardware atomics (else serialize RMW operations). */
    public boolean regionAtomic(int rid) { return (flags[rid] & ATOMIC_OK) != 0; }

    /** The register file (r0..r10) an interpreter run works in; a JIT hands its registers over through it. */
    public long[] registers() { return regs; }
    /** Return slot per call frame of bpf-to-bpf calls (shared by all engines of a run). */
    public int[] frameReturns() { return retPc; }
    /** r6..r9 saved per call frame ({@code frame * 5 + 0..3}). */
    public long[] frameSaves() { return saved; }
    /** The stack of call frame {@code frame} (512 bytes, offset 0 is its lowest byte; {@code r10} points past the end). */
    public MemorySegment stackSegment(int frame) { return seg[REGION_STACK0 + frame]; }
    /**
     * The words behind {@link #stackSegment}: byte {@code 8k..8k+7} of the stack is {@code stackWords(f)[k]} in
     * little-endian order (on a little-endian host; engines check {@code ByteOrder.nativeOrder()}).
     */
    public long[] stackWords(int frame) { return stackWords[frame]; }

    // Loads and stores for generated code: each checks exactly as the interpreter's inline code does.
    public long loadU8(long a) throws VmFault { int r = check(a, 1, false); return seg[r].get(U8, base[r] + (int) a) & 0xffL; }
    public long loadU16(long a) throws VmFault { int r = check(a, 2, false); return seg[r].get(U16, base[r] + (int) a) & 0xffffL; }
    public long loadU32(long a) throws VmFault { int r = check(a, 4, false); return seg[r].get(U32, base[r] + (int) a) & 0xffffffffL; }
    public long loadU64(long a) throws VmFault { int r = check(a, 8, false); return seg[r].get(U64, base[r] + (int) a); }
    public long loadS8(long a) throws VmFault { int r = check(a, 1, false); return seg[r].get(U8, base[r] + (int) a); }
    public long loadS16(long a) throws VmFault { int r = check(a, 2, false); return seg[r].get(U16, base[r] + (int) a); }
    public long loadS32(long a) throws VmFault { int r = check(a, 4, false); return seg[r].get(U32, base[r] + (int) a); }
    public void store8(long a, long v) throws VmFault { int r = check(a, 1, true); seg[r].set(U8, base[r] + (int) a, (byte) v); }
    public void store16(long a, long v) throws VmFault { int r = check(a, 2, true); seg[r].set(U16, base[r] + (int) a, (short) v); }
    public void store32(long a, long v) throws VmFault { int r = check(a, 4, true); seg[r].set(U32, base[r] + (int) a, (int) v); }
    public void store64(long a, long v) throws VmFault { int r = check(a, 8, true); seg[r].set(U64, base[r] + (int) a, v); }

    private static final java.lang.invoke.VarHandle A32 = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();
    private static final java.lang.invoke.VarHandle A64 = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();
    /** Serializes atomics on regions whose memory cannot take hardware atomics (byte[]-backed, unaligned). */
    private static final Object FALLBACK_LOCK = new Object();

    /** {@code lock add} / {@code fetch_add} of 8 bytes (the common atomic, small enough to inline); returns the old value. */
    public long atomicAdd64(long a, long v) throws VmFault {
        int r = check(a, 8, true);
        if (((int) a & 7) != 0 || (flags[r] & ATOMIC_OK) == 0) return atomic(a, 8, 4, v, 0);
        return (long) A64.getAndAdd(seg[r], base[r] + (int) a, v);
    }

    /** {@code lock add} / {@code fetch_add} of 4 bytes; returns the old value zero-extended. */
    public long atomicAdd32(long a, long v) throws VmFault {
        int r = check(a, 4, true);
        if (((int) a & 3) != 0 || (flags[r] & ATOMIC_OK) == 0) return atomic(a, 4, 4, v, 0);
        return (int) A32.getAndAdd(seg[r], base[r] + (int) a, (int) v) & 0xffffffffL;
    }

    /**
     * An atomic read-modify-write of {@code size} (4 or 8) bytes at {@code a}; returns the old value
     * (4 bytes: zero-extended). {@code op}: 0 add, 1 or, 2 and, 3 xor, 4-7 the same with fetch,
     * 8 xchg, 9 cmpxchg against {@code expect}. Checks bounds, permission and alignment.
     */
    public long atomic(long a, int size, int op, long v, long expect) throws VmFault {
        int r = check(a, size, true);
        if (((int) a & (size - 1)) != 0)
            throw VmFault.memory(a, "misaligned atomic access of " + size + " bytes");
        MemorySegment s = seg[r];
        long o = base[r] + (int) a;
        boolean hw = (flags[r] & ATOMIC_OK) != 0;
        if (size == 4) {
            int iv = (int) v, old;
            if (hw) {
                old = switch (op) {
                    case 0, 4 -> (int) A32.getAndAdd(s, o, iv);
                    case 1, 5 -> (int) A32.getAndBitwiseOr(s, o, iv);
                    case 2, 6 -> (int) A32.getAndBitwiseAnd(s, o, iv);
                    case 3, 7 -> (int) A32.getAndBitwiseXor(s, o, iv);
                    default -> op == 8 ? (int) A32.getAndSet(s, o, iv) : (int) A32.compareAndExchange(s, o, (int) expect, iv);
                };
            } else {
                synchronized (FALLBACK_LOCK) {
                    old = s.get(U32, o);
                    int nv = switch (op) {
                        case 0, 4 -> old + iv; case 1, 5 -> old | iv; case 2, 6 -> old & iv; case 3, 7 -> old ^ iv;
                        default -> op == 8 ? iv : (old == (int) expect ? iv : old);
                    };
                    s.set(U32, o, nv);
                }
            }
            return old & 0xffffffffL;
        }
        long old;
        if (hw) {
            old = switch (op) {
                case 0, 4 -> (long) A64.getAndAdd(s, o, v);
                case 1, 5 -> (long) A64.getAndBitwiseOr(s, o, v);
                case 2, 6 -> (long) A64.getAndBitwiseAnd(s, o, v);
                case 3, 7 -> (long) A64.getAndBitwiseXor(s, o, v);
                default -> op == 8 ? (long) A64.getAndSet(s, o, v) : (long) A64.compareAndExchange(s, o, expect, v);
            };
        } else {
            synchronized (FALLBACK_LOCK) {
                old = s.get(U64, o);
                long nv = switch (op) {
                    case 0, 4 -> old + v; case 1, 5 -> old | v; case 2, 6 -> old & v; case 3, 7 -> old ^ v;
                    default -> op == 8 ? v : (old == expect ? v : old);
                };
                s.set(U64, o, nv);
            }
        }
        return old;
    }

    // ------------------------------------------------------------------ checked access

    /** Region id of {@code [addr, addr+size)} after bounds and permission checks. */
    int check(long addr, int size, boolean write) throws VmFault {
        int rid = (int) (addr >>> 32);
        int off = (int) addr;
        if (rid == 0 && packetRid != 0) {   // the 32-bit packet window (see addPacketRegion)
            rid = packetRid;
            off -= PACKET_BASE;
        }
        if (rid > 0 && rid < count && off >= 0 && off <= len[rid] - size && (!write || (flags[rid] & WRITABLE) != 0))
            return rid;
        throw accessFault(addr, size, write);
    }

    VmFault accessFault(long addr, long size, boolean write) {
        int rid = (int) (addr >>> 32);
        long off = addr & 0xffffffffL;
        String what = (write ? "store of " : "load of ") + size + " byte" + (size == 1 ? "" : "s");
        if (rid >= MAP_PTR_BASE && rid < MAP_PTR_BASE + MAX_STATIC && off == 0)
            return VmFault.memory(addr, "invalid " + what + ": address is a map pointer, not memory");
        if (rid <= 0 || rid >= count || seg[rid] == null)
            return VmFault.memory(addr, "invalid " + what + ": address is not in any memory region"
                    + (rid == 0 ? " (NULL or a scalar)" : ""));
        String name = regionName(rid);
        if (write && (flags[rid] & WRITABLE) == 0 && off + size <= len[rid])
            return VmFault.memory(addr, "invalid " + what + ": " + name + " is read-only");
        long signedOff = off >= 0x80000000L ? off - 0x100000000L : off;
        return VmFault.memory(addr, "invalid " + what + " at offset " + signedOff + " of " + name
                + " (size " + len[rid] + ")");
    }

    String regionName(int rid) {
        Object o = owner[rid];
        return o instanceof VmMap m ? "value of map " + m.name() : String.valueOf(o);
    }

    /** Loads {@code size} (1, 2, 4, 8) bytes, zero-extended. */
    public long load(long addr, int size) throws VmFault {
        int rid = check(addr, size, false);
        long p = base[rid] + (int) addr;
        MemorySegment s = seg[rid];
        return switch (size) {
            case 1 -> s.get(U8, p) & 0xffL;
            case 2 -> s.get(U16, p) & 0xffffL;
            case 4 -> s.get(U32, p) & 0xffffffffL;
            case 8 -> s.get(U64, p);
            default -> throw new IllegalArgumentException("size " + size);
        };
    }

    /** Stores the low {@code size} (1, 2, 4, 8) bytes of {@code value}. */
    public void store(long addr, int size, long value) throws VmFault {
        int rid = check(addr, size, true);
        long p = base[rid] + (int) addr;
        MemorySegment s = seg[rid];
        switch (size) {
            case 1 -> s.set(U8, p, (byte) value);
            case 2 -> s.set(U16, p, (short) value);
            case 4 -> s.set(U32, p, (int) value);
            case 8 -> s.set(U64, p, value);
            default -> throw new IllegalArgumentException("size " + size);
        }
    }

    /** A view of {@code [addr, addr+length)} after bounds checks; read-only unless {@code write}. */
    public MemorySegment segment(long addr, long length, boolean write) throws VmFault {
        if (length < 0 || length > Integer.MAX_VALUE) throw VmFault.memory(addr, "invalid length " + length);
        if (length == 0) return MemorySegment.ofArray(new byte[0]);
        int rid = check(addr, (int) length, write);
        MemorySegment s = seg[rid].asSlice(base[rid] + (int) addr, length);
        return write ? s : s.asReadOnly();
    }

    /** Segment holding {@code addr} and the offset of {@code addr} in it, without allocation: see {@link #offsetOf}. */
    public MemorySegment segmentOf(long addr, int length, boolean write) throws VmFault {
        return seg[check(addr, length, write)];
    }

    /** Offset of {@code addr} inside {@link #segmentOf}; call after segmentOf succeeded. */
    public long offsetOf(long addr) {
        int rid = (int) (addr >>> 32);
        return base[rid == 0 ? packetRid : rid] + (int) addr;
    }

    public byte[] read(long addr, int length) throws VmFault {
        byte[] out = new byte[length];
        if (length > 0) MemorySegment.copy(segmentOf(addr, length, false), U8, offsetOf(addr), out, 0, length);
        return out;
    }

    public void write(long addr, byte[] data) throws VmFault {
        if (data.length > 0) MemorySegment.copy(data, 0, segmentOf(addr, data.length, true), U8, offsetOf(addr), data.length);
    }

    /** A NUL-terminated string of at most {@code max} bytes (the region's end also terminates it). */
    public String readCString(long addr, int max) throws VmFault {
        int rid = check(addr, 1, false);
        int off = (int) addr;
        int n = Math.min(max, len[rid] - off);
        MemorySegment s = seg[rid];
        long p = base[rid] + off;
        int i = 0;
        while (i < n && s.get(U8, p + i) != 0) i++;
        byte[] b = new byte[i];
        MemorySegment.copy(s, U8, p, b, 0, i);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** The map a map pointer ({@code ld_imm64} src 1) refers to in the running program. */
    public VmMap map(long mapPointer) throws VmFault {
        int idx = (int) (mapPointer >>> 32) - MAP_PTR_BASE;
        if ((int) mapPointer != 0 || program == null || idx < 0 || idx >= program.maps.length)
            throw VmFault.helper(String.format("0x%x is not a map pointer", mapPointer));
        return program.maps[idx];
    }

    static long mapPointer(int index) { return (long) (MAP_PTR_BASE + index) << 32; }
}
