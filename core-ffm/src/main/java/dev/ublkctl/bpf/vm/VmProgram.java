package dev.ublkctl.bpf.vm;

import dev.ublkctl.bpf.insn.Decoder;
import dev.ublkctl.bpf.insn.Instruction;
import dev.ublkctl.bpf.insn.Instruction.*;
import dev.ublkctl.bpf.insn.SourceLines;
import dev.ublkctl.bpf.maps.MapType;
import dev.ublkctl.bpf.maps.VmMap;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A program checked and predecoded for execution: every slot decoded and valid, jump and call targets
 * inside the program and on instruction boundaries, {@code r10} never written, helpers and kfuncs resolved,
 * map references in range. Immutable and shareable between threads; run it with an {@link ExecutionEngine}
 * and a per-thread {@link VmContext}.
 */
public final class VmProgram implements dev.ublkctl.bpf.maps.ProgArrayMap.Program {
    private static final java.util.concurrent.atomic.AtomicInteger IDS = new java.util.concurrent.atomic.AtomicInteger();
    /** Process-unique id: what a program array holds for this program. */
    private final int id = IDS.incrementAndGet();

    final String name;
    /** Raw slots plus one sentinel slot. */
    final long[] code;
    /** Predecoded operation per slot ({@link Uop}), sentinel {@link Uop#END_OF_PROGRAM} at the end. */
    final int[] uops;
    /** The raw slot with its opcode byte replaced by the uop: one load per dispatch. */
    final long[] ops;
    /** Absolute target slot of jumps and local calls; -1 elsewhere. */
    final int[] targets;
    /** Resolved 64-bit immediates of ld_imm64 (map pointers and value addresses included), by slot. */
    final long[] imm64;
    /** Resolved helper/kfunc per call slot. */
    final Helper[] natives;
    final String[] nativeNames;
    final VmMap[] maps;
    final MemorySegment[] staticSeg;
    final long[] staticBase;
    final int[] staticLen;
    final List<String> kfuncNames;
    /** Targets of ld_imm64 src 4: what callbacks may enter. */
    final boolean[] functionStarts;
    final SourceLines sourceLines;
    /** What a compiling engine derived from this program (a JIT's class), see {@link #compiled}. */
    private volatile Object compiled;

    private VmProgram(Builder b, long[] slots) throws VmFault {
        this.name = b.name;
        this.maps = b.maps.toArray(VmMap[]::new);
        this.kfuncNames = List.copyOf(b.kfuncs);
        this.sourceLines = b.sourceLines;
        int n = slots.length;
        if (n == 0) throw fault(0, "program is empty");
        if (n > MAX_SLOTS) throw fault(0, "program has " + n + " instructions, more than " + MAX_SLOTS);
        if (maps.length > VmContext.MAX_STATIC) throw fault(0, "program uses " + maps.length + " maps, more than " + VmContext.MAX_STATIC);
        code = new long[n + 1];
        System.arraycopy(slots, 0, code, 0, n);
        uops = new int[n + 1];
        targets = new int[n + 1];
        imm64 = new long[n + 1];
        natives = new Helper[n + 1];
        nativeNames = new String[n + 1];
        java.util.Arrays.fill(targets, -1);
        uops[n] = Uop.END_OF_PROGRAM;

        staticSeg = new MemorySegment[maps.length];
        staticBase = new long[maps.length];
        staticLen = new int[maps.length];

        boolean[] start = new boolean[n];
        List<int[]> jumps = new ArrayList<>();   // {slot, target}
        List<int[]> funcRefs = new ArrayList<>();
        for (int i = 0; i < n; ) {
            Instruction insn = Decoder.decode(slots, i);
            start[i] = true;
            if (insn instanceof Unknown u) throw fault(i, "invalid instruction: " + u.reason());
            // as the kernel: an unused field must be zero, so the same bytes load here and there or nowhere
            String reserved = dev.ublkctl.bpf.insn.ReservedFields.violation(slots[i], insn);
            if (reserved != null) throw fault(i, reserved);
            if (writesFramePointer(insn)) throw fault(i, "r10 (frame pointer) is read-only");
            uops[i] = Uop.of(insn);
            switch (insn) {
                case Jump j -> jumps.add(new int[]{i, i + 1 + j.off()});
                case Goto g -> jumps.add(new int[]{i, i + 1 + g.offset()});
                case Call c -> {
                    switch (c.kind()) {
                        case LOCAL -> jumps.add(new int[]{i, i + 1 + c.imm()});
                        case HELPER -> {
                            FunctionRegistry.HelperEntry h = b.registry.helper(c.imm());
                            if (h == null) throw fault(i, "unknown helper " + c.imm()
                                    + " (" + dev.ublkctl.bpf.insn.Disassembler.helperName(c.imm()) + ")");
                            natives[i] = h.impl();
                            nativeNames[i] = h.name();
                        }
                        case KFUNC -> {
                            if (c.imm() < 0 || c.imm() >= kfuncNames.size())
                                throw fault(i, "kfunc call #" + c.imm() + " has no name (the program lists " + kfuncNames.size() + " kfuncs)");
                            String kn = kfuncNames.get(c.imm());
                            Kfunc k = b.registry.kfunc(kn);
                            if (k == null) throw fault(i, "unknown kfunc " + kn);
                            natives[i] = k::call;
                            nativeNames[i] = kn;
                        }
                    }
                }
                case LoadImm64 l -> {
                    uops[i + 1] = Uop.LDDW_HI;
                    imm64[i] = switch (l.kind()) {
                        case VALUE -> l.imm();
                        case MAP -> {
                            checkMap(i, l.mapIndex());
                            yield VmContext.mapPointer(l.mapIndex());
                        }
                        case FUNC -> {
                            funcRefs.add(new int[]{i, i + 1 + l.funcOffset()});
                            yield 0;   // set below, once the target is checked
                        }
                        case MAP_VALUE -> {
                            int m = l.mapIndex();
                            checkMap(i, m);
                            VmMap map = maps[m];
                            if (map.def().type() != MapType.ARRAY)
                                throw fault(i, "direct value access needs an array map, map " + map.name() + " is " + map.def().type());
                            if (l.valueOffset() < 0 || l.valueOffset() >= map.def().valueSize())
                                throw fault(i, "value offset " + l.valueOffset() + " outside map " + map.name() + "'s value");
                            staticSeg[m] = map.storage();
                            staticBase[m] = map.valueOffset(0, 0);
                            staticLen[m] = map.def().valueSize();
                            yield ((long) (VmContext.REGION_STATIC0 + m) << 32) + l.valueOffset();
                        }
                    };
                }
                default -> {}
            }
            i += insn.slots();
        }
        ops = new long[n + 1];
        for (int i = 0; i <= n; i++) ops[i] = (code[i] & ~0xffL) | uops[i];
        for (int[] j : jumps) {
            int t = j[1];
            if (t < 0 || t >= n) throw fault(j[0], "jump target " + t + " is outside the program (0.." + (n - 1) + ")");
            if (!start[t]) throw fault(j[0], "jump target " + t + " is inside a 64-bit immediate load");
            targets[j[0]] = t;
        }
        functionStarts = new boolean[n];
        for (int[] f : funcRefs) {
            int t = f[1];
            if (t < 0 || t >= n || !start[t]) throw fault(f[0], "function address " + t + " is not an instruction of the program");
            functionStarts[t] = true;
            imm64[f[0]] = VmContext.funcPointer(t);
        }
    }

    /** Most instructions a program may have (the kernel's limit for privileged programs). */
    public static final int MAX_SLOTS = 1_000_000;

    private void checkMap(int i, int idx) throws VmFault {
        if (idx < 0 || idx >= maps.length) throw fault(i, "map index " + idx + " out of range (program has " + maps.length + " maps)");
    }

    private VmFault fault(int i, String reason) {
        return VmFault.of(VmFault.Kind.PREPARE, reason).at(name, i, sourceLines.lineFor(i));
    }

    private static boolean writesFramePointer(Instruction insn) {
        return switch (insn) {
            case Alu a -> a.dst() == 10;
            case ByteSwap s -> s.dst() == 10;
            case LoadImm64 l -> l.dst() == 10;
            case Load l -> l.dst() == 10;
            case Atomic a -> a.op() == AtomicOp.LOAD_ACQUIRE ? a.dst() == 10 : a.op().fetches() && a.src() == 10;
            default -> false;
        };
    }

    @Override public String name() { return name; }
    @Override public int id() { return id; }
    /** Whether {@code pc} is a function the program takes the address of (a valid callback). */
    public boolean isFunctionStart(int pc) { return pc >= 0 && pc < functionStarts.length && functionStarts[pc]; }
    /** Number of 8-byte slots. */
    public int length() { return code.length - 1; }
    /** The raw slots (a copy). */
    public long[] slots() { return java.util.Arrays.copyOf(code, code.length - 1); }
    public List<VmMap> maps() { return List.of(maps); }
    public List<String> kfuncNames() { return kfuncNames; }
    public SourceLines sourceLines() { return sourceLines; }

    // read-only views for other engines (a JIT)
    public int uop(int slot) { return uops[slot]; }
    public int target(int slot) { return targets[slot]; }
    public long imm64(int slot) { return imm64[slot]; }
    public Helper nativeAt(int slot) { return natives[slot]; }
    public String nativeName(int slot) { return nativeNames[slot]; }
    public long rawSlot(int slot) { return code[slot]; }

    /**
     * What a compiling engine derived from this program, computed once (a JIT keeps its class here, so
     * compiling happens once per loaded program, never per run). One field read on the run path.
     */
    public Object compiled(java.util.function.Function<VmProgram, Object> compute) {
        Object c = compiled;
        if (c != null) return c;
        synchronized (this) {
            if (compiled == null) compiled = java.util.Objects.requireNonNull(compute.apply(this));
            return compiled;
        }
    }

    /** What {@link #compiled(java.util.function.Function)} produced so far, or null. */
    public Object compiledIfPresent() { return compiled; }

    public static Builder builder(String name, byte[] code) { return new Builder(name, Decoder.slots(code)); }
    public static Builder builder(String name, long[] slots) { return new Builder(name, slots.clone()); }

    /** Collects what a program refers to, then {@link #prepare()}s it. */
    public static final class Builder {
        private final String name;
        private final long[] slots;
        private final List<VmMap> maps = new ArrayList<>();
        private final List<String> kfuncs = new ArrayList<>();
        private FunctionRegistry registry;
        private SourceLines sourceLines = SourceLines.NONE;

        private Builder(String name, long[] slots) {
            this.name = Objects.requireNonNull(name);
            this.slots = slots;
        }

        /** Maps in index order: {@code ld_imm64} src 1/2 with imm i refers to the i-th. */
        public Builder maps(List<VmMap> m) { maps.addAll(m); return this; }
        public Builder map(VmMap m) { maps.add(m); return this; }
        /** Kfunc names in index order: a kfunc call with imm i calls the i-th. */
        public Builder kfuncs(List<String> names) { kfuncs.addAll(names); return this; }
        public Builder registry(FunctionRegistry r) { registry = r; return this; }
        public Builder sourceLines(SourceLines s) { sourceLines = Objects.requireNonNull(s); return this; }

        public VmProgram prepare() throws VmFault {
            if (registry == null) registry = FunctionRegistry.standard();
            return new VmProgram(this, slots);
        }
    }
}
