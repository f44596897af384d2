package dev.ublkctl.bpf.jit;

import static dev.ublkctl.bpf.vm.Uop.*;
import static java.lang.constant.ConstantDescs.*;

import dev.ublkctl.bpf.vm.Helper;
import dev.ublkctl.bpf.vm.VmContext;
import dev.ublkctl.bpf.vm.VmFault;
import dev.ublkctl.bpf.vm.VmProgram;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.classfile.TypeKind;
import java.lang.classfile.attribute.CodeAttribute;
import java.lang.classfile.instruction.SwitchCase;
import java.lang.constant.ClassDesc;
import java.lang.constant.DynamicConstantDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Translates a {@link VmProgram} into one JVM method ({@link JitCode#exec}) of a hidden class, or, for a
 * program too big for one method HotSpot compiles, into chunk methods behind an {@code exec} that dispatches.
 *
 * <p>Mapping: r0-r10 are {@code long} locals; each basic block is a label, charged its instruction count
 * against the budget on entry and checked only at checkpoints (see {@link #chargeBlock}); bpf-to-bpf calls keep the interpreter's frame records
 * ({@link VmContext#frameSaves()}, {@link VmContext#frameReturns()}) and return through a switch over the
 * return sites, so a run can be handed to the interpreter at any block. Loads, stores and atomics call
 * {@link VmContext}'s checked accessors, except stack accesses at {@code r10 + constant} proved inside the
 * frame. Helpers, kfuncs and tables are class data constants; ld_imm64 values are folded in. A local
 * {@code pc} is set before each instruction that can fault; one handler places the fault there.
 */
final class JitCompiler {
    /** HotSpot leaves methods with more bytecode than this interpreted (-XX:HugeMethodLimit, DontCompileHugeMethods). */
    static final int HUGE_METHOD_LIMIT = Integer.getInteger("ublkctl.jit.maxMethodBytes", 8000);
    /** Most methods one program is split into. */
    static final int MAX_CHUNKS = 128;
    /** Longest straight run without a block boundary (slots). */
    static final int FORCED_BLOCK = 32;

    private static final ClassDesc CD_CTX = ClassDesc.of(VmContext.class.getName());
    private static final ClassDesc CD_FAULT = ClassDesc.of(VmFault.class.getName());
    private static final ClassDesc CD_PROG = ClassDesc.of(VmProgram.class.getName());
    private static final ClassDesc CD_HELPER = ClassDesc.of(Helper.class.getName());
    private static final ClassDesc CD_CODE = ClassDesc.of(JitCode.class.getName());
    private static final ClassDesc CD_RT = ClassDesc.of(JitRuntime.class.getName());
    private static final ClassDesc CD_LONG_ARR = CD_long.arrayType();
    private static final ClassDesc CD_INT_ARR = CD_int.arrayType();
    private static final ClassDesc CD_SOE = ClassDesc.of(StackOverflowError.class.getName());
    private static final MethodTypeDesc MT_EXEC = MethodTypeDesc.of(CD_long, CD_CTX, CD_int, CD_int,
            CD_long, CD_long, CD_long, CD_long, CD_long);
    private static final MethodTypeDesc MT_J_J = MethodTypeDesc.of(CD_long, CD_long);
    private static final MethodTypeDesc MT_V_JJ = MethodTypeDesc.of(CD_void, CD_long, CD_long);
    private static final MethodTypeDesc MT_STK_LD = MethodTypeDesc.of(CD_long, CD_LONG_ARR, CD_int, CD_int);
    private static final MethodTypeDesc MT_STK_ST = MethodTypeDesc.of(CD_void, CD_LONG_ARR, CD_int, CD_int, CD_long);
    private static final MethodTypeDesc MT_HELPER = MethodTypeDesc.of(CD_long, CD_CTX, CD_long, CD_long, CD_long, CD_long, CD_long);

    private static final AtomicLong SEQ = new AtomicLong();
    private static final ClassFile CF = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(
            ClassHierarchyResolver.defaultResolver().orElse(ClassHierarchyResolver.ofClassLoading(JitCompiler.class.getClassLoader()))));

    // local variable slots (0 this, 1 ctx, 2 startPc, 3 baseDepth, 4..13 r1..r5 as parameters)
    private static final int CTX = 1, START = 2, BASE = 3;
    private final int[] reg = new int[11];
    private int bud, excess, depth, pcl, stk, saved, retPc, regs, tmp;

    private final VmProgram p;
    private final int n;
    private final boolean[] leader;
    private final int[] blockLen, refund, maxPath;
    private final boolean[] checkpoint;
    private final boolean localCalls, callbacks;
    private final List<Object> classData = new ArrayList<>();
    private final Map<Object, Integer> dataIndex = new IdentityHashMap<>();
    private Label[] labels;
    private Label stub, retDispatch;
    private final List<Integer> handovers = new ArrayList<>();
    private Label[] handLabels;
    private final TreeSet<Integer> returnSites = new TreeSet<>();
    // the slots [lo, hi) the method being generated covers; split: one of several chunk methods
    private int lo, hi;
    private boolean split;
    private final Map<Integer, Label> exits = new java.util.TreeMap<>();
    private static final MethodTypeDesc MT_CHUNK = MethodTypeDesc.of(CD_long, CD_CTX, CD_int, CD_int, CD_int);

    private JitCompiler(VmProgram p) {
        this.p = p;
        this.n = p.length();
        boolean lc = false, cbs = false;
        leader = new boolean[n + 1];
        leader[0] = true;
        leader[n] = true;   // falling off the end is a block of its own that faults
        for (int i = 0; i < n; i++) {
            if (p.isFunctionStart(i)) { leader[i] = true; cbs = true; }
            // long straight runs get a block boundary now and then, so a split program can be cut there
            if (i % FORCED_BLOCK == 0 && p.uop(i) != LDDW_HI) leader[i] = true;
            int u = p.uop(i);
            if (u == LDDW_HI) continue;
            if (isJump(u)) { leader[p.target(i)] = true; leader[i + 1] = true; }
            if (u == CALL_LOCAL) { lc = true; leader[p.target(i)] = true; leader[i + 1] = true; returnSites.add(i + 1); }
            if (u == CALL_NATIVE || u == EXIT) leader[i + 1] = true;
        }
        localCalls = lc;
        callbacks = cbs;
        blockLen = new int[n + 1];
        refund = new int[n + 1];
        for (int b = 0; b <= n; ) {
            int e = b, count = 0;
            List<Integer> insns = new ArrayList<>();
            while (true) {
                if (e == n) { insns.add(e); count++; e++; break; }
                int u = p.uop(e);
                insns.add(e);
                count++;
                int next = e + (u == LDDW ? 2 : 1);
                boolean ends = isJump(u) || u == CALL_LOCAL || u == CALL_NATIVE || u == EXIT;
                e = next;
                if (ends || e > n || leader[e]) break;
            }
            blockLen[b] = count;
            for (int k = 0; k < insns.size(); k++) refund[insns.get(k)] = insns.size() - 1 - k;
            b = e;
            while (b <= n && !leader[b]) b++;
        }
        // Budget checks only where a path can come back or a helper may have spent budget: entries, targets
        // of backward jumps, function entries and return sites, after helper calls. Between two checkpoints
        // the code is acyclic, so a checkpoint demands the longest path to the next one (maxPath).
        checkpoint = new boolean[n + 1];
        checkpoint[0] = true;
        for (int i = 0; i < n; i++) {
            if (p.isFunctionStart(i)) checkpoint[i] = true;
            int u = p.uop(i);
            if (u == LDDW_HI) continue;
            if (isJump(u) && p.target(i) <= i) checkpoint[p.target(i)] = true;
            if (u == CALL_LOCAL) { checkpoint[p.target(i)] = true; checkpoint[i + 1] = true; }
            if (u == CALL_NATIVE) checkpoint[i + 1] = true;
        }
        maxPath = new int[n + 1];
        int[] blockEnd = new int[n + 1];   // last instruction of the block starting here
        for (int b = 0, last = -1; b <= n; b++) {
            if (leader[b]) { if (last >= 0) blockEnd[last] = lastInsn(last, b); last = b; }
            if (b == n) blockEnd[last] = n;
        }
        for (int b = n; b >= 0; b--) {
            if (!leader[b]) continue;
            long best = 0;
            int e = blockEnd[b];
            if (e < n) {
                int u = p.uop(e);
                if (isJump(u)) best = Math.max(best, pathFrom(p.target(e), e));
                if (u != JA && u != CALL_LOCAL && u != EXIT) best = Math.max(best, pathFrom(e + (u == LDDW ? 2 : 1), e));
            }
            maxPath[b] = (int) Math.min(Integer.MAX_VALUE, blockLen[b] + best);
        }
    }

    /** Last instruction slot of the block [b, next). */
    private int lastInsn(int b, int next) {
        int last = b;
        for (int i = b; i < next; i += p.uop(i) == LDDW ? 2 : 1) last = i;
        return last;
    }

    /** The longest path from block {@code s} to the next checkpoint (0 if {@code s} is one or lies behind {@code from}). */
    private long pathFrom(int s, int from) {
        if (s > n || s <= from || checkpoint[s]) return 0;
        return maxPath[s];
    }

    private static boolean isJump(int u) { return u >= JBASE && u <= JA; }

    /** Compiles {@code p}, or says why it runs in the interpreter instead. */
    static Compilation compile(VmProgram p) { return compile(p, HUGE_METHOD_LIMIT); }

    /** Compiles {@code p} into methods of at most {@code limit} bytes of bytecode (splitting if needed), or says why not. */
    static Compilation compile(VmProgram p, int limit) {
        long t0 = System.nanoTime();
        if (p.length() > MAX_CHUNKS / 16 * limit)   // at ~16 bytes of bytecode a slot, more than MAX_CHUNKS methods
            return new Compilation.Fallback("program " + p.name() + " has " + p.length() + " slots, more than the "
                    + MAX_CHUNKS / 16 * limit + " the JIT splits into methods of " + limit + " bytes", System.nanoTime() - t0);
        try {
            JitCompiler c = new JitCompiler(p);
            byte[] bytes = null;
            int size = Integer.MAX_VALUE;
            if (p.length() <= limit) {   // else it cannot fit one method
                try {
                    bytes = c.generate(null);
                    size = codeLength(bytes, m -> m.equals("exec"));
                } catch (IllegalArgumentException tooLarge) {
                    bytes = null;   // past 64 KiB: split below
                }
            }
            if (size > limit) {
                // too big for one method HotSpot compiles: chunk methods of contiguous blocks, one dispatcher
                int largest = Integer.MAX_VALUE;
                int estimate = size == Integer.MAX_VALUE ? 16 * p.length() : size;
                for (int k = Math.min(MAX_CHUNKS, Math.max(2, (int) Math.ceil(estimate * 1.3 / limit))); k <= MAX_CHUNKS && largest > limit; k *= 2) {
                    c = new JitCompiler(p);
                    bytes = c.generate(c.chunkBounds(k));
                    largest = codeLength(bytes, m -> m.startsWith("chunk"));
                }
                if (largest > limit)
                    return new Compilation.Fallback("program " + p.name() + " (" + p.length() + " slots) has a piece of " + largest
                            + " bytes of bytecode even when split, more than the " + limit + " HotSpot compiles in one method",
                            System.nanoTime() - t0);
                size = codeLength(bytes, m -> true);
            }
            dump(p, bytes);
            MethodHandles.Lookup hidden = MethodHandles.lookup().defineHiddenClassWithClassData(bytes, List.copyOf(c.classData), true);
            JitCode code = (JitCode) hidden.findConstructor(hidden.lookupClass(), MethodType.methodType(void.class)).invoke();
            return new Compilation.Compiled(code, size, System.nanoTime() - t0);
        } catch (IllegalArgumentException | IllegalStateException | ClassFormatError | VerifyError e) {
            // the classfile API refuses a method past 64 KiB; anything else here is a bug worth naming too
            return new Compilation.Fallback("program " + p.name() + " (" + p.length() + " slots) does not fit one JVM method: " + e.getMessage(),
                    System.nanoTime() - t0);
        } catch (Throwable e) {
            if (e instanceof Error err && !(e instanceof LinkageError)) throw err;
            return new Compilation.Fallback("class generation failed: " + e, System.nanoTime() - t0);
        }
    }

    /** For developers: {@code -Dublkctl.jit.dump=DIR} writes each generated class to DIR (read it with {@code javap -c -p}). */
    private static void dump(VmProgram p, byte[] bytes) {
        String dir = System.getProperty("ublkctl.jit.dump");
        if (dir == null) return;
        try {
            java.nio.file.Files.createDirectories(java.nio.file.Path.of(dir));
            java.nio.file.Files.write(java.nio.file.Path.of(dir, "Bpf_" + sanitize(p.name()) + "_" + SEQ.get() + ".class"), bytes);
        } catch (java.io.IOException e) {
            System.err.println("ublkctl.jit.dump: " + e.getMessage());
        }
    }

    /** The largest code length among methods whose name {@code which} accepts (the sum when it accepts all). */
    private static int codeLength(byte[] bytes, java.util.function.Predicate<String> which) {
        int max = 0, sum = 0;
        for (var m : CF.parse(bytes).methods()) {
            String name = m.methodName().stringValue();
            if (name.equals(INIT_NAME) || !which.test(name)) continue;
            int len = m.findAttribute(java.lang.classfile.Attributes.code()).map(CodeAttribute::codeLength).orElse(0);
            max = Math.max(max, len);
            sum += len;
        }
        return which.test(INIT_NAME) ? sum : max;
    }

    /** {@code k} chunk boundaries at block starts: chunk i covers slots [b[i], b[i+1]), the last ends past slot n. */
    int[] chunkBounds(int k) {
        List<Integer> b = new ArrayList<>();
        b.add(0);
        for (int i = 1; i < k; i++) {
            int t = (int) ((long) i * (n + 1) / k);
            while (t <= n && !leader[t]) t++;
            if (t <= n && t > b.getLast()) b.add(t);
        }
        b.add(n + 1);
        return b.stream().mapToInt(Integer::intValue).toArray();
    }

    private int data(Object o) {
        return dataIndex.computeIfAbsent(o, k -> { classData.add(k); return classData.size() - 1; });
    }

    private void loadData(CodeBuilder cb, Object o, ClassDesc type) {
        cb.ldc(DynamicConstantDesc.ofNamed(BSM_CLASS_DATA_AT, DEFAULT_NAME, type, data(o)));
    }

    /** The class: one exec method, or with {@code bounds} chunk methods behind an exec that dispatches between them. */
    private byte[] generate(int[] bounds) {
        ClassDesc self = ClassDesc.of(JitCompiler.class.getPackageName() + ".Bpf_" + sanitize(p.name()) + "_" + SEQ.incrementAndGet());
        return CF.build(self, clb -> {
            clb.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SUPER);
            clb.withInterfaceSymbols(CD_CODE);
            clb.withMethodBody(INIT_NAME, MTD_void, ClassFile.ACC_PUBLIC,
                    cb -> cb.aload(0).invokespecial(CD_Object, INIT_NAME, MTD_void).return_());
            if (bounds == null) {
                clb.withMethodBody("exec", MT_EXEC, ClassFile.ACC_PUBLIC | ClassFile.ACC_FINAL, cb -> body(cb, 0, n + 1, false));
                return;
            }
            for (int k = 0; k + 1 < bounds.length; k++) {
                int from = bounds[k], to = bounds[k + 1];
                clb.withMethodBody("chunk" + k, MT_CHUNK, ClassFile.ACC_PRIVATE | ClassFile.ACC_FINAL, cb -> body(cb, from, to, true));
            }
            clb.withMethodBody("exec", MT_EXEC, ClassFile.ACC_PUBLIC | ClassFile.ACC_FINAL, cb -> dispatcher(cb, self, bounds));
        });
    }

    /**
     * exec of a split program: registers live in {@link VmContext#registers()} between chunks; each chunk
     * returns where to go on as {@code depth << 32 | pc}, or -1 when the entered frame exited (r0 in registers[0]).
     */
    private void dispatcher(CodeBuilder cb, ClassDesc self, int[] bounds) {
        int arr = cb.allocateLocal(TypeKind.REFERENCE), st = cb.allocateLocal(TypeKind.LONG);
        int pc = cb.allocateLocal(TypeKind.INT), d = cb.allocateLocal(TypeKind.INT);
        cb.aload(CTX).invokevirtual(CD_CTX, "registers", MethodTypeDesc.of(CD_LONG_ARR)).astore(arr);
        for (int r = 0; r <= 9; r++) {
            cb.aload(arr).loadConstant(r);
            if (r >= 1 && r <= 5) cb.lload(4 + 2 * (r - 1)); else cb.lconst_0();
            cb.lastore();
        }
        cb.aload(arr).loadConstant(10).iload(BASE).i2l().loadConstant(1L).ladd().loadConstant(32).lshl()
                .loadConstant((long) VmContext.STACK_SIZE).ladd().lastore();
        cb.iload(BASE).i2l().loadConstant(32).lshl().iload(START).i2l().lor().lstore(st);
        Label loop = cb.newLabel(), done = cb.newLabel();
        cb.labelBinding(loop);
        cb.lload(st).l2i().istore(pc);
        cb.iload(pc).iflt(done);
        cb.lload(st).loadConstant(32).lushr().l2i().istore(d);
        Label[] calls = new Label[bounds.length - 1];
        for (int k = 0; k < calls.length; k++) calls[k] = cb.newLabel();
        for (int k = 0; k + 1 < calls.length; k++) cb.iload(pc).loadConstant(bounds[k + 1]).if_icmplt(calls[k]);
        cb.goto_(calls[calls.length - 1]);
        for (int k = 0; k < calls.length; k++) {
            cb.labelBinding(calls[k]);
            cb.aload(0).aload(CTX).iload(pc).iload(BASE).iload(d).invokevirtual(self, "chunk" + k, MT_CHUNK).lstore(st);
            cb.goto_(loop);
        }
        cb.labelBinding(done);
        cb.aload(arr).iconst_0().laload().lreturn();
    }

    /** Where code jumps to reach slot {@code t}: its block's label, or (split) the exit to the chunk that has it. */
    private Label label(CodeBuilder cb, int t) {
        if (!split || (t >= lo && t < hi)) return labels[t];
        return exits.computeIfAbsent(t, x -> cb.newLabel());
    }

    /** Split: registers to {@link VmContext#registers()}, budget to the context (chunk exits, hand-overs). */
    private void spillAll(CodeBuilder cb) {
        for (int r = 0; r <= 10; r++) cb.aload(regs).loadConstant(r).lload(reg[r]).lastore();
    }

    private static String sanitize(String s) {
        StringBuilder b = new StringBuilder();
        for (char ch : s.toCharArray()) if (b.length() < 40) b.append(Character.isJavaIdentifierPart(ch) ? ch : '_');
        return b.toString();
    }

    private void body(CodeBuilder cb, int from, int to, boolean chunk) {
        handovers.clear();   // the classfile API may run this twice (a retry with long jumps)
        exits.clear();
        lo = from;
        hi = to;
        split = chunk;
        int depthIn = 4;   // split: the frame the chunk is entered in (4th parameter)
        for (int r = 1; r <= 5; r++) reg[r] = split ? cb.allocateLocal(TypeKind.LONG) : 4 + 2 * (r - 1);
        reg[0] = cb.allocateLocal(TypeKind.LONG);
        for (int r = 6; r <= 10; r++) reg[r] = cb.allocateLocal(TypeKind.LONG);
        bud = cb.allocateLocal(TypeKind.INT);
        excess = cb.allocateLocal(TypeKind.LONG);
        tmp = cb.allocateLocal(TypeKind.LONG);
        depth = cb.allocateLocal(TypeKind.INT);
        pcl = cb.allocateLocal(TypeKind.INT);
        stk = cb.allocateLocal(TypeKind.REFERENCE);
        saved = cb.allocateLocal(TypeKind.REFERENCE);
        retPc = cb.allocateLocal(TypeKind.REFERENCE);
        regs = cb.allocateLocal(TypeKind.REFERENCE);

        labels = new Label[n + 1];
        for (int i = 0; i <= n; i++) if (leader[i]) labels[i] = cb.newLabel();
        stub = cb.newLabel();
        handLabels = new Label[n + 1];
        retDispatch = cb.newLabel();

        // ---- entry: every local set before the first block, so all merges agree on types
        cb.aload(CTX).invokevirtual(CD_CTX, "registers", MethodTypeDesc.of(CD_LONG_ARR)).astore(regs);
        if (split) {
            for (int r = 0; r <= 9; r++) { cb.aload(regs).loadConstant(r).laload(); st(cb, r); }
            cb.iload(depthIn).istore(depth);
        } else {
            cb.lconst_0().lstore(reg[0]);
            for (int r = 6; r <= 9; r++) cb.lconst_0().lstore(reg[r]);
            cb.iload(BASE).istore(depth);
        }
        stackPointer(cb);
        loadBudget(cb);
        cb.aload(CTX).iload(depth).invokevirtual(CD_CTX, "stackWords", MethodTypeDesc.of(CD_LONG_ARR, CD_int)).astore(stk);
        cb.aload(CTX).invokevirtual(CD_CTX, "frameSaves", MethodTypeDesc.of(CD_LONG_ARR)).astore(saved);
        cb.aload(CTX).invokevirtual(CD_CTX, "frameReturns", MethodTypeDesc.of(CD_INT_ARR)).astore(retPc);
        cb.iload(START).istore(pcl);
        cb.lconst_0().lstore(tmp);

        Label tryStart = cb.newLabel(), tryEnd = cb.newLabel();
        cb.labelBinding(tryStart);
        if (split) {
            // a chunk is entered at any of its blocks
            List<SwitchCase> cases = new ArrayList<>();
            for (int i = lo; i < hi; i++) if (leader[i]) cases.add(SwitchCase.of(i, labels[i]));
            Label bad = cb.newLabel();
            cb.iload(START).lookupswitch(bad, cases);
            cb.labelBinding(bad);
            cb.invokestatic(CD_RT, "ranOffTheEnd", MethodTypeDesc.of(CD_FAULT)).athrow();
        } else if (callbacks) {
            List<SwitchCase> cases = new ArrayList<>();
            for (int i = 0; i < n; i++) if (p.isFunctionStart(i) && i != 0) cases.add(SwitchCase.of(i, labels[i]));
            cb.iload(START).lookupswitch(labels[0], cases);
        }
        int i0 = lo;
        while (i0 < hi && !leader[i0]) i0++;
        for (int i = i0; i < hi; ) {
            if (leader[i]) {
                cb.labelBinding(labels[i]);
                chargeBlock(cb, i);
            }
            if (i == n) {
                setPc(cb, n);
                cb.invokestatic(CD_RT, "ranOffTheEnd", MethodTypeDesc.of(CD_FAULT)).athrow();
                break;
            }
            i = insn(cb, i);
        }
        if (split && hi <= n) cb.goto_(label(cb, hi));   // falls through into the next chunk
        if (localCalls) {
            // return from a bpf-to-bpf call: pc of the return site is in tmp (as an int)
            cb.labelBinding(retDispatch);
            List<SwitchCase> cases = new ArrayList<>();
            for (int r : returnSites) if (!split || (r >= lo && r < hi)) cases.add(SwitchCase.of(r, labels[r]));
            Label other = cb.newLabel();
            cb.lload(tmp).l2i().lookupswitch(other, cases);
            cb.labelBinding(other);
            if (split) {   // a return site in another chunk
                spillAll(cb);
                storeBudget(cb);
                cb.iload(depth).i2l().loadConstant(32).lshl().lload(tmp).lor().lreturn();
            } else {
                cb.invokestatic(CD_RT, "ranOffTheEnd", MethodTypeDesc.of(CD_FAULT)).athrow();
            }
        }
        cb.labelBinding(tryEnd);

        // ---- split: exits to blocks of other chunks
        for (var e : exits.entrySet()) {
            cb.labelBinding(e.getValue());
            spillAll(cb);
            storeBudget(cb);
            cb.iload(depth).i2l().loadConstant(32).lshl().loadConstant((long) e.getKey()).lor().lreturn();
        }

        // ---- budget hand-over to the interpreter (outside the handler: its faults are placed already)
        for (int b : handovers) {
            cb.labelBinding(handLabels[b]);
            cb.loadConstant(b).istore(pcl).goto_(stub);
        }
        cb.labelBinding(stub);
        for (int r = 0; r <= 10; r++) cb.aload(regs).loadConstant(r).lload(reg[r]).lastore();
        loadData(cb, p, CD_PROG);
        cb.aload(CTX).iload(pcl).iload(depth).iload(BASE);
        budgetValue(cb);
        cb.invokestatic(CD_RT, "resume", MethodTypeDesc.of(CD_long, CD_PROG, CD_CTX, CD_int, CD_int, CD_int, CD_long));
        if (split) {   // the entered frame has exited: r0 to registers[0], tell the dispatcher
            cb.lstore(tmp);
            cb.aload(regs).iconst_0().lload(tmp).lastore();
            cb.loadConstant(-1L);
        }
        cb.lreturn();

        // ---- fault handlers
        Label onFault = cb.newLabel(), onThrowable = cb.newLabel();
        cb.labelBinding(onFault);
        cb.aload(CTX);
        loadData(cb, p, CD_PROG);
        cb.iload(pcl);
        budgetValue(cb);
        loadData(cb, refund, CD_INT_ARR);
        cb.invokestatic(CD_RT, "placeFault", MethodTypeDesc.of(CD_FAULT, CD_FAULT, CD_CTX, CD_PROG, CD_int, CD_long, CD_INT_ARR));
        cb.athrow();
        cb.labelBinding(onThrowable);
        loadData(cb, p, CD_PROG);
        cb.iload(pcl);
        cb.invokestatic(CD_RT, "wrapThrowable", MethodTypeDesc.of(CD_FAULT, CD_Throwable, CD_PROG, CD_int));
        cb.athrow();
        cb.exceptionCatch(tryStart, tryEnd, onFault, CD_FAULT);
        cb.exceptionCatch(tryStart, tryEnd, onThrowable, ClassDesc.of(RuntimeException.class.getName()));
        cb.exceptionCatch(tryStart, tryEnd, onThrowable, CD_SOE);
    }

    /** r10 = stack pointer of the frame in {@code depth}. */
    private void stackPointer(CodeBuilder cb) {
        cb.iload(depth).i2l().loadConstant(1L).ladd().loadConstant(32).lshl()
                .loadConstant((long) VmContext.STACK_SIZE).ladd().lstore(reg[10]);
    }

    private void reloadStack(CodeBuilder cb) {
        stackPointer(cb);
        cb.aload(CTX).iload(depth).invokevirtual(CD_CTX, "stackWords", MethodTypeDesc.of(CD_LONG_ARR, CD_int)).astore(stk);
    }

    /**
     * Block entry: at a checkpoint, hand over to the interpreter unless the budget covers the longest path
     * to the next checkpoint; then charge the block. The budget is an int local ({@code excess} keeps what
     * lies beyond 2^31-1, so huge budgets hand over to the interpreter once the int part runs low).
     */
    private void chargeBlock(CodeBuilder cb, int pc) {
        if (checkpoint[pc]) {
            handLabels[pc] = cb.newLabel();
            handovers.add(pc);
            cb.iload(bud).loadConstant(maxPath[pc]).if_icmplt(handLabels[pc]);
        }
        cb.iinc(bud, -blockLen[pc]);
    }

    /** bud/excess from the context's remaining budget. */
    private void loadBudget(CodeBuilder cb) {
        cb.aload(CTX).invokevirtual(CD_CTX, "remainingBudget", MethodTypeDesc.of(CD_long)).lstore(excess);
        cb.lload(excess).invokestatic(CD_RT, "intBudget", MethodTypeDesc.of(CD_int, CD_long)).istore(bud);
        cb.lload(excess).iload(bud).i2l().lsub().lstore(excess);
    }

    /** Pushes the remaining budget as a long. */
    private void budgetValue(CodeBuilder cb) { cb.iload(bud).i2l().lload(excess).ladd(); }

    private void storeBudget(CodeBuilder cb) {
        cb.aload(CTX);
        budgetValue(cb);
        cb.invokevirtual(CD_CTX, "setRemainingBudget", MethodTypeDesc.of(CD_void, CD_long));
    }

    private void setPc(CodeBuilder cb, int pc) { cb.loadConstant(pc).istore(pcl); }

    private static int dst(long insn) { return (int) (insn >>> 8) & 0xf; }
    private static int src(long insn) { return (int) (insn >>> 12) & 0xf; }
    private static int off(long insn) { return (short) (insn >>> 16); }
    private static int imm(long insn) { return (int) (insn >>> 32); }

    private void ld(CodeBuilder cb, int r) { cb.lload(reg[r]); }
    private void st(CodeBuilder cb, int r) { cb.lstore(reg[r]); }
    private static void zext(CodeBuilder cb) { cb.invokestatic(CD_Integer, "toUnsignedLong", MethodTypeDesc.of(CD_long, CD_int)); }

    /** Emits instruction {@code pc}; returns the next slot. */
    private int insn(CodeBuilder cb, int pc) {
        int u = p.uop(pc);
        long insn = p.rawSlot(pc);
        int d = dst(insn), s = src(insn), off = off(insn), imm = imm(insn);
        if (u < ALU32) { alu64(cb, u, d, s, imm); return pc + 1; }
        if (u < LE16) { alu32(cb, u, d, s, imm); return pc + 1; }
        if (u >= JBASE && u < JA) { jump(cb, u, d, s, imm, p.target(pc)); return pc + 1; }
        switch (u) {
            case LE16 -> { ld(cb, d); cb.loadConstant(0xffffL).land(); st(cb, d); }
            case LE32 -> { ld(cb, d); cb.loadConstant(0xffffffffL).land(); st(cb, d); }
            case LE64 -> {}
            case BE16 -> { ld(cb, d); cb.l2i().i2s().invokestatic(CD_Short, "reverseBytes", MethodTypeDesc.of(CD_short, CD_short))
                    .i2l().loadConstant(0xffffL).land(); st(cb, d); }
            case BE32 -> { ld(cb, d); cb.l2i().invokestatic(CD_Integer, "reverseBytes", MethodTypeDesc.of(CD_int, CD_int)); zext(cb); st(cb, d); }
            case BE64 -> { ld(cb, d); cb.invokestatic(CD_Long, "reverseBytes", MT_J_J); st(cb, d); }
            case JA -> cb.goto_(label(cb, p.target(pc)));
            case LDDW -> { cb.loadConstant(p.imm64(pc)); st(cb, d); return pc + 2; }
            case CALL_NATIVE -> callNative(cb, pc);
            case CALL_LOCAL -> callLocal(cb, pc);
            case EXIT -> exit(cb);
            case LDX_B, LDX_H, LDX_W, LDX_DW, LDXSX_B, LDXSX_H, LDXSX_W -> load(cb, pc, u, d, s, off);
            case ST_B, ST_H, ST_W, ST_DW, STX_B, STX_H, STX_W, STX_DW -> store(cb, pc, u, d, s, off, imm);
            case LDACQ_B, LDACQ_H, LDACQ_W, LDACQ_DW -> {
                int size = 1 << (u - LDACQ_B);
                setPc(cb, pc);
                cb.aload(CTX);
                address(cb, s, off);
                cb.invokevirtual(CD_CTX, "loadU" + 8 * size, MT_J_J);
                cb.invokestatic(ClassDesc.of("java.lang.invoke.VarHandle"), "acquireFence", MTD_void, false);
                st(cb, d);
            }
            case STREL_B, STREL_H, STREL_W, STREL_DW -> {
                int size = 1 << (u - STREL_B);
                cb.invokestatic(ClassDesc.of("java.lang.invoke.VarHandle"), "releaseFence", MTD_void, false);
                setPc(cb, pc);
                cb.aload(CTX);
                address(cb, d, off);
                ld(cb, s);
                cb.invokevirtual(CD_CTX, "store" + 8 * size, MT_V_JJ);
            }
            default -> {
                if (u >= A32_ADD && u <= A64_CMPXCHG) { atomic(cb, pc, u, d, s, off); break; }
                throw new IllegalStateException("no translation for operation " + u + " at " + pc);
            }
        }
        return pc + 1;
    }

    private void alu64(CodeBuilder cb, int u, int d, int s, int imm) {
        boolean x = switch (u) {
            case ADD64_X, SUB64_X, MUL64_X, OR64_X, AND64_X, LSH64_X, RSH64_X, XOR64_X, ARSH64_X -> true;
            default -> false;
        };
        long k = imm;
        switch (u) {
            case ADD64_K, ADD64_X -> bin64(cb, d, s, x, k, () -> cb.ladd());
            case SUB64_K, SUB64_X -> bin64(cb, d, s, x, k, () -> cb.lsub());
            case MUL64_K, MUL64_X -> bin64(cb, d, s, x, k, () -> cb.lmul());
            case OR64_K, OR64_X -> bin64(cb, d, s, x, k, () -> cb.lor());
            case AND64_K, AND64_X -> bin64(cb, d, s, x, k, () -> cb.land());
            case XOR64_K, XOR64_X -> bin64(cb, d, s, x, k, () -> cb.lxor());
            case LSH64_K, LSH64_X -> shift64(cb, d, s, x, imm, () -> cb.lshl());
            case RSH64_K, RSH64_X -> shift64(cb, d, s, x, imm, () -> cb.lushr());
            case ARSH64_K, ARSH64_X -> shift64(cb, d, s, x, imm, () -> cb.lshr());
            case NEG64 -> { ld(cb, d); cb.lneg(); st(cb, d); }
            case MOV64_K -> { cb.loadConstant(k); st(cb, d); }
            case MOV64_X -> { ld(cb, s); st(cb, d); }
            case MOVSX64_8 -> { ld(cb, s); cb.l2i().i2b().i2l(); st(cb, d); }
            case MOVSX64_16 -> { ld(cb, s); cb.l2i().i2s().i2l(); st(cb, d); }
            case MOVSX64_32 -> { ld(cb, s); cb.l2i().i2l(); st(cb, d); }
            case DIV64_K, SDIV64_K -> {
                if (k == 0) { cb.lconst_0(); st(cb, d); break; }
                ld(cb, d); cb.loadConstant(k);
                if (u == DIV64_K) cb.invokestatic(CD_Long, "divideUnsigned", MethodTypeDesc.of(CD_long, CD_long, CD_long)); else cb.ldiv();
                st(cb, d);
            }
            case MOD64_K, SMOD64_K -> {
                if (k == 0) break;   // mod by zero leaves dst
                ld(cb, d); cb.loadConstant(k);
                if (u == MOD64_K) cb.invokestatic(CD_Long, "remainderUnsigned", MethodTypeDesc.of(CD_long, CD_long, CD_long)); else cb.lrem();
                st(cb, d);
            }
            case DIV64_X, SDIV64_X, MOD64_X, SMOD64_X -> {
                boolean div = u == DIV64_X || u == SDIV64_X;
                Label zero = cb.newLabel(), done = cb.newLabel();
                ld(cb, s); cb.lconst_0().lcmp().ifeq(zero);
                ld(cb, d); ld(cb, s);
                switch (u) {
                    case DIV64_X -> cb.invokestatic(CD_Long, "divideUnsigned", MethodTypeDesc.of(CD_long, CD_long, CD_long));
                    case SDIV64_X -> cb.ldiv();
                    case MOD64_X -> cb.invokestatic(CD_Long, "remainderUnsigned", MethodTypeDesc.of(CD_long, CD_long, CD_long));
                    default -> cb.lrem();
                }
                st(cb, d);
                cb.goto_(done);
                cb.labelBinding(zero);
                if (div) { cb.lconst_0(); st(cb, d); }
                cb.labelBinding(done);
            }
            default -> throw new IllegalStateException("alu64 " + u);
        }
    }

    private void bin64(CodeBuilder cb, int d, int s, boolean x, long k, Runnable op) {
        ld(cb, d);
        if (x) ld(cb, s); else cb.loadConstant(k);
        op.run();
        st(cb, d);
    }

    private void shift64(CodeBuilder cb, int d, int s, boolean x, int imm, Runnable op) {
        ld(cb, d);
        if (x) { ld(cb, s); cb.l2i(); } else cb.loadConstant(imm);
        op.run();   // the JVM masks the count to 6 bits, as the interpreter's Java shifts do
        st(cb, d);
    }

    private void alu32(CodeBuilder cb, int u, int d, int s, int imm) {
        int base = u - ALU32;
        boolean x = switch (u) {
            case ADD32_X, SUB32_X, MUL32_X, DIV32_X, SDIV32_X, OR32_X, AND32_X, LSH32_X, RSH32_X, MOD32_X, SMOD32_X,
                 XOR32_X, MOV32_X, ARSH32_X -> true;
            default -> false;
        };
        switch (u) {
            case ADD32_K, ADD32_X -> bin32(cb, d, s, x, imm, () -> cb.iadd());
            case SUB32_K, SUB32_X -> bin32(cb, d, s, x, imm, () -> cb.isub());
            case MUL32_K, MUL32_X -> bin32(cb, d, s, x, imm, () -> cb.imul());
            case OR32_K, OR32_X -> bin32(cb, d, s, x, imm, () -> cb.ior());
            case AND32_K, AND32_X -> bin32(cb, d, s, x, imm, () -> cb.iand());
            case XOR32_K, XOR32_X -> bin32(cb, d, s, x, imm, () -> cb.ixor());
            case LSH32_K, LSH32_X -> bin32(cb, d, s, x, imm, () -> cb.ishl());
            case RSH32_K, RSH32_X -> bin32(cb, d, s, x, imm, () -> cb.iushr());
            case ARSH32_K, ARSH32_X -> bin32(cb, d, s, x, imm, () -> cb.ishr());
            case NEG32 -> { ld(cb, d); cb.l2i().ineg(); zext(cb); st(cb, d); }
            case MOV32_K -> { cb.loadConstant(imm & 0xffffffffL); st(cb, d); }
            case MOV32_X -> { ld(cb, s); cb.loadConstant(0xffffffffL).land(); st(cb, d); }
            case MOVSX32_8 -> { ld(cb, s); cb.l2i().i2b(); zext(cb); st(cb, d); }
            case MOVSX32_16 -> { ld(cb, s); cb.l2i().i2s(); zext(cb); st(cb, d); }
            case DIV32_K, SDIV32_K -> {
                if (imm == 0) { cb.lconst_0(); st(cb, d); break; }
                ld(cb, d); cb.l2i().loadConstant(imm);
                if (u == DIV32_K) cb.invokestatic(CD_Integer, "divideUnsigned", MethodTypeDesc.of(CD_int, CD_int, CD_int)); else cb.idiv();
                zext(cb); st(cb, d);
            }
            case MOD32_K, SMOD32_K -> {
                ld(cb, d); cb.l2i();
                if (imm != 0) {
                    cb.loadConstant(imm);
                    if (u == MOD32_K) cb.invokestatic(CD_Integer, "remainderUnsigned", MethodTypeDesc.of(CD_int, CD_int, CD_int)); else cb.irem();
                }
                zext(cb); st(cb, d);   // by zero: dst zero-extended
            }
            case DIV32_X, SDIV32_X, MOD32_X, SMOD32_X -> {
                boolean div = u == DIV32_X || u == SDIV32_X;
                Label zero = cb.newLabel(), done = cb.newLabel();
                ld(cb, s); cb.l2i().ifeq(zero);
                ld(cb, d); cb.l2i(); ld(cb, s); cb.l2i();
                switch (u) {
                    case DIV32_X -> cb.invokestatic(CD_Integer, "divideUnsigned", MethodTypeDesc.of(CD_int, CD_int, CD_int));
                    case SDIV32_X -> cb.idiv();
                    case MOD32_X -> cb.invokestatic(CD_Integer, "remainderUnsigned", MethodTypeDesc.of(CD_int, CD_int, CD_int));
                    default -> cb.irem();
                }
                zext(cb); st(cb, d);
                cb.goto_(done);
                cb.labelBinding(zero);
                if (div) cb.lconst_0();
                else { ld(cb, d); cb.loadConstant(0xffffffffL).land(); }
                st(cb, d);
                cb.labelBinding(done);
            }
            default -> throw new IllegalStateException("alu32 " + u + " (" + base + ")");
        }
    }

    private void bin32(CodeBuilder cb, int d, int s, boolean x, int imm, Runnable op) {
        ld(cb, d); cb.l2i();
        if (x) { ld(cb, s); cb.l2i(); } else cb.loadConstant(imm);
        op.run();
        zext(cb);
        st(cb, d);
    }

    private void jump(CodeBuilder cb, int u, int d, int s, int imm, int target) {
        int k = u - JBASE;
        int op = k / 4;               // JmpOp ordinal: EQ GT GE SET NE SGT SGE LT LE SLT SLE
        boolean wide = (k & 2) == 0, x = (k & 1) == 1;
        boolean unsigned = op == 1 || op == 2 || op == 7 || op == 8;
        Label t = label(cb, target);
        if (wide) {
            ld(cb, d);
            if (unsigned) cb.loadConstant(Long.MIN_VALUE).lxor();
            if (x) { ld(cb, s); if (unsigned) cb.loadConstant(Long.MIN_VALUE).lxor(); }
            else cb.loadConstant(unsigned ? (long) imm ^ Long.MIN_VALUE : (long) imm);
            if (op == 3) { cb.land().lconst_0().lcmp().ifne(t); return; }
            cb.lcmp();
            cond(cb, op, t);
        } else {
            ld(cb, d); cb.l2i();
            if (unsigned) cb.loadConstant(Integer.MIN_VALUE).ixor();
            if (x) { ld(cb, s); cb.l2i(); if (unsigned) cb.loadConstant(Integer.MIN_VALUE).ixor(); }
            else cb.loadConstant(unsigned ? imm ^ Integer.MIN_VALUE : imm);
            if (op == 3) { cb.iand().ifne(t); return; }
            icond(cb, op, t);
        }
    }

    /** After lcmp: branch on the comparison result. */
    private static void cond(CodeBuilder cb, int op, Label t) {
        switch (op) {
            case 0 -> cb.ifeq(t);
            case 4 -> cb.ifne(t);
            case 1, 5 -> cb.ifgt(t);
            case 2, 6 -> cb.ifge(t);
            case 7, 9 -> cb.iflt(t);
            case 8, 10 -> cb.ifle(t);
            default -> throw new IllegalStateException("jump op " + op);
        }
    }

    private static void icond(CodeBuilder cb, int op, Label t) {
        switch (op) {
            case 0 -> cb.if_icmpeq(t);
            case 4 -> cb.if_icmpne(t);
            case 1, 5 -> cb.if_icmpgt(t);
            case 2, 6 -> cb.if_icmpge(t);
            case 7, 9 -> cb.if_icmplt(t);
            case 8, 10 -> cb.if_icmple(t);
            default -> throw new IllegalStateException("jump op " + op);
        }
    }

    private static final boolean LITTLE_ENDIAN_HOST = java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;

    /** Whether {@code r10 + off} with {@code size} bytes is always inside the frame's stack (then no check is needed). */
    private static boolean stackConst(int base, int off, int size) {
        return LITTLE_ENDIAN_HOST && base == 10 && off >= -VmContext.STACK_SIZE && off <= -size;
    }

    private void address(CodeBuilder cb, int base, int off) {
        ld(cb, base);
        if (off != 0) cb.loadConstant((long) off).ladd();
    }

    private void load(CodeBuilder cb, int pc, int u, int d, int s, int off) {
        int size = switch (u) { case LDX_B, LDXSX_B -> 1; case LDX_H, LDXSX_H -> 2; case LDX_W, LDXSX_W -> 4; default -> 8; };
        boolean sx = u >= LDXSX_B;
        String kind = (sx ? "S" : "U") + 8 * size;
        if (stackConst(s, off, size)) {
            int o = VmContext.STACK_SIZE + off;
            cb.aload(stk);
            if (size == 8 && (o & 7) == 0) cb.loadConstant(o >>> 3).laload();
            else cb.loadConstant(o).loadConstant(size).invokestatic(CD_RT, sx ? "stkLoadSigned" : "stkLoad", MT_STK_LD);
        } else {
            setPc(cb, pc);
            cb.aload(CTX);
            address(cb, s, off);
            cb.invokevirtual(CD_CTX, "load" + kind, MT_J_J);
        }
        st(cb, d);
    }

    private void store(CodeBuilder cb, int pc, int u, int d, int s, int off, int imm) {
        boolean x = u >= STX_B;
        int size = 1 << (u - (x ? STX_B : ST_B));
        if (stackConst(d, off, size)) {
            int o = VmContext.STACK_SIZE + off;
            cb.aload(stk);
            if (size == 8 && (o & 7) == 0) {
                cb.loadConstant(o >>> 3);
                if (x) ld(cb, s); else cb.loadConstant((long) imm);
                cb.lastore();
            } else {
                cb.loadConstant(o).loadConstant(size);
                if (x) ld(cb, s); else cb.loadConstant((long) imm);
                cb.invokestatic(CD_RT, "stkStore", MT_STK_ST);
            }
        } else {
            setPc(cb, pc);
            cb.aload(CTX);
            address(cb, d, off);
            if (x) ld(cb, s); else cb.loadConstant((long) imm);
            cb.invokevirtual(CD_CTX, "store" + 8 * size, MT_V_JJ);
        }
    }

    private void atomic(CodeBuilder cb, int pc, int u, int d, int s, int off) {
        boolean wide = u >= A64_ADD;
        int op = u - (wide ? A64_ADD : A32_ADD);
        setPc(cb, pc);
        cb.aload(CTX);
        address(cb, d, off);
        if (op == 0 || op == 4) {   // add and fetch_add: the compilers' __sync_fetch_and_add
            ld(cb, s);
            cb.invokevirtual(CD_CTX, wide ? "atomicAdd64" : "atomicAdd32", MethodTypeDesc.of(CD_long, CD_long, CD_long));
            if (op == 4) st(cb, s); else cb.pop2();
            return;
        }
        cb.loadConstant(wide ? 8 : 4).loadConstant(op);
        ld(cb, s);
        ld(cb, 0);
        cb.invokevirtual(CD_CTX, "atomic", MethodTypeDesc.of(CD_long, CD_long, CD_int, CD_int, CD_long, CD_long));
        if (op == 9) st(cb, 0);
        else if (op >= 4) st(cb, s);
        else cb.pop2();
    }

    private void callNative(CodeBuilder cb, int pc) {
        setPc(cb, pc);
        // bpf_tail_call needs the frame (main frame only) and the budget its target goes on with
        boolean runState = callbacks || "bpf_tail_call".equals(p.nativeName(pc));
        if (runState) {
            // a helper may run callbacks (bpf_loop) on this run's budget, from the frame above this one;
            // without function addresses in the program, no helper can (VmContext.callFunction refuses)
            storeBudget(cb);
            cb.aload(CTX).iload(depth).invokevirtual(CD_CTX, "setCallDepth", MethodTypeDesc.of(CD_void, CD_int));
            spillArgs(cb);
        }
        loadData(cb, p.nativeAt(pc), CD_HELPER);
        cb.aload(CTX);
        for (int r = 1; r <= 5; r++) ld(cb, r);
        cb.invokeinterface(CD_HELPER, "call", MT_HELPER);
        st(cb, 0);
        if (runState) {
            loadBudget(cb);
            // as in the interpreter, a callback's last r1-r5 stay in r1-r5 after the helper returns
            for (int r = 1; r <= 5; r++) { cb.aload(regs).loadConstant(r).laload(); st(cb, r); }
        }
    }

    private void spillArgs(CodeBuilder cb) {
        for (int r = 1; r <= 5; r++) { cb.aload(regs).loadConstant(r); ld(cb, r); cb.lastore(); }
    }

    private void callLocal(CodeBuilder cb, int pc) {
        setPc(cb, pc);
        Label ok = cb.newLabel();
        cb.iload(depth).loadConstant(VmContext.MAX_FRAMES - 1).if_icmpne(ok);
        cb.invokestatic(CD_RT, "callDepth", MethodTypeDesc.of(CD_FAULT)).athrow();
        cb.labelBinding(ok);
        for (int r = 6; r <= 9; r++) {
            cb.aload(saved).iload(depth).loadConstant(5).imul().loadConstant(r - 6).iadd();
            ld(cb, r);
            cb.lastore();
        }
        cb.aload(retPc).iload(depth).loadConstant(pc + 1).iastore();
        cb.iinc(depth, 1);
        reloadStack(cb);
        cb.goto_(label(cb, p.target(pc)));
    }

    private void exit(CodeBuilder cb) {
        if (localCalls) {
            Label inner = cb.newLabel();
            cb.iload(depth).iload(BASE).if_icmpne(inner);
            exitBase(cb);
            cb.labelBinding(inner);
            cb.iinc(depth, -1);
            for (int r = 6; r <= 9; r++) {
                cb.aload(saved).iload(depth).loadConstant(5).imul().loadConstant(r - 6).iadd().laload();
                st(cb, r);
            }
            reloadStack(cb);
            cb.aload(retPc).iload(depth).iaload().i2l().lstore(tmp);
            cb.goto_(retDispatch);
        } else {
            exitBase(cb);
        }
    }

    private void exitBase(CodeBuilder cb) {
        storeBudget(cb);
        if (split) {
            spillAll(cb);
            cb.loadConstant(-1L).lreturn();
            return;
        }
        if (callbacks) spillArgs(cb);
        ld(cb, 0);
        cb.lreturn();
    }
}
