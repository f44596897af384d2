package dev.ublkctl.bpf.vm;

import static dev.ublkctl.bpf.insn.Asm.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ublkctl.bpf.insn.Asm;
import dev.ublkctl.bpf.insn.Decoder;
import dev.ublkctl.bpf.insn.Disassembler;
import dev.ublkctl.bpf.insn.Instruction.AluOp;
import dev.ublkctl.bpf.insn.Instruction.AtomicOp;
import dev.ublkctl.bpf.insn.Instruction.JmpOp;
import dev.ublkctl.bpf.insn.Instruction.Size;
import dev.ublkctl.bpf.insn.Opcodes;
import dev.ublkctl.bpf.kernel.Bpf;
import dev.ublkctl.bpf.kernel.BpfException;
import dev.ublkctl.bpf.kernel.KernelMap;
import dev.ublkctl.bpf.kernel.KernelProgram;
import dev.ublkctl.bpf.maps.MapDef;
import dev.ublkctl.bpf.maps.MapType;
import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.bpf.object.ProgramType;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The host kernel as the oracle: each program body runs as an XDP program in the kernel
 * (BPF_PROG_TEST_RUN) and in the VM on both engines (interpreter and JIT), on the same seeded random packets; r0 (the kernel reports its low
 * 32 bits) and the whole packet afterwards must match. A body sees the packet in r6: inputs at
 * offsets 0..IN, results stored at OUT.. . The kernel version starts with the bounds check the
 * verifier demands; the VM version just moves r1 (the packet address) to r6.
 */
class KernelOracleTest {
    static final int N = 1024, IN = 0, OUT = 128;
    static final int RUNS = 200;
    static final long[] EDGE = {0, 1, -1, 2, -2, 31, 32, 63, 64, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
            0x7fffffffL, 0x80000000L, 0xffffffffL, 0x100000000L, Long.MAX_VALUE, Long.MIN_VALUE, 0x8000000000000001L};

    @BeforeAll
    static void needBpf() {
        String why = Bpf.unavailableReason();
        if (why != null) System.out.println("SKIP kernel oracle tests: " + why);
        assumeTrue(why == null, () -> "bpf(2) not usable here: " + why);
    }

    /** The body is assembled once (it may draw random numbers) and appended to each prologue; its jumps are relative. */
    static byte[] withPrologue(Asm prologue, long[] body) {
        long[] p = prologue.slots();
        long[] all = Arrays.copyOf(p, p.length + body.length);
        System.arraycopy(body, 0, all, p.length, body.length);
        return Decoder.bytes(all);
    }

    static byte[] kernelVersion(long[] body) {
        return withPrologue(new Asm().ldx(Size.W, R6, R1, 0).ldx(Size.W, R7, R1, 4)
                .mov64Reg(R8, R6).add64(R8, N).jmp(JmpOp.JLE, R8, R7, "__ok").ret(0).label("__ok"), body);
    }

    static byte[] vmVersion(long[] body) {
        return withPrologue(new Asm().mov64Reg(R6, R1), body);
    }

    static byte[] randomPacket(Random r) {
        ByteBuffer b = ByteBuffer.allocate(N).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < OUT / 8; i++) {
            long v = switch (r.nextInt(4)) {
                case 0 -> EDGE[r.nextInt(EDGE.length)];
                case 1 -> r.nextInt(64) - 32;
                default -> r.nextLong();
            };
            b.putLong(i * 8, v);
        }
        for (int i = OUT; i < N; i++) b.put(i, (byte) 0xa5);
        return b.array();
    }

    /** Runs {@code body} in both and compares; maps (if any) are kernel/VM pairs patched into ld_imm64 src 1. */
    static void compare(String name, Consumer<Asm> bodyWriter, long seed, List<KernelMap> kmaps, List<VmMap> vmaps) {
        Asm bodyAsm = new Asm();
        bodyWriter.accept(bodyAsm);
        long[] body = bodyAsm.slots();
        byte[] kcode = kernelVersion(body);
        if (!kmaps.isEmpty()) kcode = patchMapFds(kcode, kmaps);
        KernelProgram kp;
        try {
            kp = Bpf.loadProgram(new Bpf.ProgramLoad(ProgramType.XDP, kcode, "GPL", "oracle"));
        } catch (BpfException e) {
            fail("kernel refused oracle program " + name + ":\n" + new Disassembler().dump(kcode) + "\n" + e.getMessage());
            return;
        }
        try (kp) {
            // both engines, each on its own copy of the maps (the interpreter's are compared with the
            // kernel's by the caller; the JIT's must end equal to the interpreter's)
            List<VmMap> jmaps = copies(vmaps);
            ExecutionEngine[] engines = {new Interpreter(), new dev.ublkctl.bpf.jit.JitEngine()};
            VmProgram[] progs = new VmProgram[2];
            VmContext[] ctxs = {new VmContext(), new VmContext()};
            for (int e = 0; e < 2; e++) {
                try {
                    progs[e] = VmProgram.builder(name, vmVersion(body)).maps(e == 0 ? vmaps : jmaps).prepare();
                } catch (VmFault f) {
                    fail("VM refused " + name + ": " + f.getMessage());
                    return;
                }
            }
            Random r = new Random(seed);
            for (int run = 0; run < RUNS; run++) {
                byte[] pkt = randomPacket(r);
                KernelProgram.TestRunResult k = kp.testRun(KernelProgram.TestRunInput.ofData(pkt, 1));
                byte[] kout = Arrays.copyOf(k.dataOut(), N);
                for (int e = 0; e < 2; e++) {
                    String vmName = engines[e].name();
                    byte[] mine = pkt.clone();
                    long r0;
                    try {
                        r0 = engines[e].runWithContext(progs[e], ctxs[e], MemorySegment.ofArray(mine), true);
                    } catch (VmFault f) {
                        fail(name + " run " + run + ": " + vmName + " faulted where the kernel returned " + k.retval() + ": " + f.getMessage());
                        return;
                    }
                    int finalRun = run;
                    assertEquals(k.retval(), r0 & 0xffffffffL, () -> name + " run " + finalRun + ": " + vmName + " r0 differs; input "
                            + HexFormat.of().formatHex(pkt, 0, OUT));
                    if (!Arrays.equals(kout, mine)) {
                        for (int i = 0; i < N; i += 8) {
                            long kv = ByteBuffer.wrap(kout).order(ByteOrder.LITTLE_ENDIAN).getLong(i);
                            long mv = ByteBuffer.wrap(mine).order(ByteOrder.LITTLE_ENDIAN).getLong(i);
                            if (kv != mv)
                                fail(String.format("%s run %d: packet differs at offset %d: kernel %016x, %s %016x; input %s%n%s",
                                        name, run, i, kv, vmName, mv, HexFormat.of().formatHex(pkt, 0, OUT), new Disassembler().dump(body)));
                        }
                    }
                }
            }
            for (int i = 0; i < vmaps.size(); i++)
                assertEquals(dump(vmaps.get(i)), dump(jmaps.get(i)), name + ": map " + vmaps.get(i).name() + " after the JIT's runs");
        }
    }

    /** Fresh maps with the same definitions and contents. */
    static List<VmMap> copies(List<VmMap> maps) {
        List<VmMap> out = new ArrayList<>();
        for (VmMap m : maps) {
            VmMap c = VmMap.create(m.def(), m.cpus());
            byte[] key = null;
            try {
                while ((key = m.nextKey(key)) != null) c.update(key, m.lookup(key), VmMap.BPF_ANY);
            } catch (dev.ublkctl.bpf.maps.MapException e) {
                throw new IllegalStateException(e);
            }
            out.add(c);
        }
        return out;
    }

    static String dump(VmMap m) {
        StringBuilder b = new StringBuilder();
        byte[] key = null;
        while ((key = m.nextKey(key)) != null)
            b.append(HexFormat.of().formatHex(key)).append('=').append(HexFormat.of().formatHex(m.lookup(key))).append('\n');
        return b.toString();
    }

    static void compare(String name, Consumer<Asm> body, long seed) {
        compare(name, body, seed, List.of(), List.of());
    }

    static byte[] patchMapFds(byte[] code, List<KernelMap> maps) {
        long[] s = Decoder.slots(code);
        for (int i = 0; i < s.length; i++) {
            if (Opcodes.opcode(s[i]) == Opcodes.LDDW && Opcodes.src(s[i]) == dev.ublkctl.bpf.insn.Instruction.ImmKind.MAP.src) {
                int fd = maps.get(Opcodes.imm(s[i])).fd();
                s[i] = (s[i] & 0xffffffffL) | ((long) fd << 32);
                i++;
            }
        }
        return Decoder.bytes(s);
    }

    // ------------------------------------------------------------------ corpus

    static final AluOp[] BINARY = {AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.DIV, AluOp.SDIV, AluOp.OR, AluOp.AND,
            AluOp.LSH, AluOp.RSH, AluOp.MOD, AluOp.SMOD, AluOp.XOR, AluOp.MOV, AluOp.ARSH};

    /** in(k) = *(u64 *)(r6 + 8k); out(k) = slot k of the result area. */
    static Asm in(Asm a, int reg, int k) { return a.ldx(Size.DW, reg, R6, IN + 8 * k); }
    static Asm out(Asm a, int reg, int k) { return a.stx(Size.DW, R6, OUT + 8 * k, reg); }

    static Stream<Arguments> aluOps() {
        return Arrays.stream(BINARY).map(Arguments::of);
    }

    @ParameterizedTest
    @MethodSource("aluOps")
    void aluRegisterAndImmediateForms(AluOp op) {
        Random seeds = new Random(op.ordinal());
        compare("alu " + op, a -> {
            int k = 0;
            for (boolean wide : new boolean[]{true, false}) {
                in(a, R1, 0); in(a, R2, 1);
                a.mov64Reg(R0, R1);
                if (wide) a.alu64(op, R0, R2); else a.alu32(op, R0, R2);
                out(a, R0, k++);
                // the divisor/shift is often tiny or zero: take the low bits of input 2
                in(a, R3, 2).alu64Imm(AluOp.AND, R3, 0x3f).mov64Reg(R0, R1);
                if (wide) a.alu64(op, R0, R3); else a.alu32(op, R0, R3);
                out(a, R0, k++);
                for (int j = 0; j < 4; j++) {
                    int imm = switch (op) {
                        case LSH, RSH, ARSH -> seeds.nextInt(wide ? 64 : 32);
                        case DIV, SDIV, MOD, SMOD -> j == 0 ? -1 : (seeds.nextBoolean() ? seeds.nextInt(100) + 1 : seeds.nextInt() | 1);
                        default -> j == 0 ? -1 : j == 1 ? Integer.MIN_VALUE : seeds.nextInt();
                    };
                    a.mov64Reg(R0, R1);
                    if (wide) a.alu64Imm(op, R0, imm); else a.alu32Imm(op, R0, imm);
                    out(a, R0, k++);
                }
            }
            a.mov64Reg(R0, R1).alu64(op == AluOp.MOV ? AluOp.ADD : op, R0, R2).exit();
        }, 100 + op.ordinal());
    }

    @Test
    void negMovsxAndByteSwaps() {
        compare("unary", a -> {
            int k = 0;
            in(a, R1, 0);
            a.mov64Reg(R0, R1).neg64(R0); out(a, R0, k++);
            a.mov64Reg(R0, R1).neg32(R0); out(a, R0, k++);
            for (int bits : new int[]{8, 16, 32}) { a.movsx64(R0, R1, bits); out(a, R0, k++); }
            for (int bits : new int[]{8, 16}) { a.movsx32(R0, R1, bits); out(a, R0, k++); }
            for (int w : new int[]{16, 32, 64}) {
                a.mov64Reg(R0, R1).be(R0, w); out(a, R0, k++);
                a.mov64Reg(R0, R1).le(R0, w); out(a, R0, k++);
                a.mov64Reg(R0, R1).bswap(R0, w); out(a, R0, k++);
            }
            a.mov32Reg(R0, R1); out(a, R0, k++);
            a.lddw(R0, 0x0123456789abcdefL).alu64(AluOp.XOR, R0, R1).exit();
        }, 2);
    }

    static Stream<Arguments> jmpOps() {
        return Arrays.stream(JmpOp.values()).map(Arguments::of);
    }

    /** One program per condition: the verifier explores every path, so 6 branches each keep it small. */
    @ParameterizedTest
    @MethodSource("jmpOps")
    void conditionalJumpsAllConditions(JmpOp op) {
        compare("jumps " + op, a -> {
            in(a, R1, 0); in(a, R2, 1);
            // also compare against a nearby value so equality is hit often
            in(a, R3, 2).alu64Imm(AluOp.AND, R3, 1).mov64Reg(R4, R1).alu64(AluOp.ADD, R4, R3);
            int k = 0;
            {
                for (int form = 0; form < 6; form++) {
                    String t = "t" + op + form, d = "d" + op + form;
                    a.mov64(R0, 0);
                    switch (form) {
                        case 0 -> a.jmp(op, R1, R2, t);
                        case 1 -> a.jmp32(op, R1, R2, t);
                        case 2 -> a.jmp(op, R1, R4, t);
                        case 3 -> a.jmp32(op, R1, R4, t);
                        case 4 -> a.jmpImm(op, R1, -1, t);
                        default -> a.jmp32Imm(op, R1, 0x7fff, t);
                    }
                    a.ja(d).label(t).mov64(R0, 1).label(d);
                    out(a, R0, k++);
                }
            }
            a.ldx(Size.DW, R0, R6, OUT).exit();
        }, 300 + op.ordinal());
    }

    @Test
    void loadsAndStoresAllSizesOnPacketAndStack() {
        compare("memory", a -> {
            int k = 0;
            for (Size s : Size.values()) {
                for (int off : new int[]{0, 3, 8, 13}) {
                    if (off % s.bytes != 0 && s == Size.DW && off == 13) continue;
                    a.ldx(s, R0, R6, IN + off); out(a, R0, k++);
                    if (s != Size.DW) { a.ldxs(s, R0, R6, IN + off); out(a, R0, k++); }
                }
                // stack round trip of each size, and ST of an immediate
                in(a, R1, 5);
                a.stx(Size.DW, R10, -16, R1).stx(s, R10, -16 + 8 - s.bytes, R1).ldx(Size.DW, R0, R10, -16); out(a, R0, k++);
                a.st(s, R10, -24, -3).ldx(s, R0, R10, -24); out(a, R0, k++);
                a.st(s, R6, OUT + 8 * k, 0x12345678); k++;
                a.stx(s, R6, OUT + 8 * k + 1, R1); k++;
            }
            a.ldx(Size.W, R0, R6, 4).exit();
        }, 4);
    }

    @Test
    void atomicsOnStack() {
        compare("atomics", a -> {
            int k = 0;
            for (Size s : new Size[]{Size.W, Size.DW}) {
                for (AtomicOp op : new AtomicOp[]{AtomicOp.ADD, AtomicOp.OR, AtomicOp.AND, AtomicOp.XOR, AtomicOp.FETCH_ADD,
                        AtomicOp.FETCH_OR, AtomicOp.FETCH_AND, AtomicOp.FETCH_XOR, AtomicOp.XCHG, AtomicOp.CMPXCHG}) {
                    in(a, R1, 0); in(a, R2, 1);
                    a.stx(Size.DW, R10, -8, R1);
                    if (op == AtomicOp.CMPXCHG) {
                        // r0 equals memory half the time: low bit of input 3 chooses
                        in(a, R3, 3).alu64Imm(AluOp.AND, R3, 1);
                        in(a, R0, 2).jmpImm(JmpOp.JEQ, R3, 0, "cx" + k + s).mov64Reg(R0, R1).label("cx" + k + s);
                    }
                    a.atomic(s, op, R10, -8, R2);
                    a.ldx(Size.DW, R3, R10, -8); out(a, R3, k++);
                    out(a, R2, k++);
                    if (op == AtomicOp.CMPXCHG) out(a, R0, k++);
                }
            }
            a.ldx(Size.DW, R0, R10, -8).exit();
        }, 5);
    }

    @Test
    void bpfToBpfCallsAndBoundedLoops() {
        compare("calls+loops", a -> {
            in(a, R1, 0); in(a, R2, 1);
            a.mov64Reg(R9, R6);          // r6 is callee-saved: the packet survives the calls
            a.callLocal("f1");
            out(a, R0, 0);
            in(a, R1, 0);                // r1-r5 are clobbered by calls
            // bounded loop with gotol: r0 = sum of (r1 ^ i) for i < (in2 & 15)
            in(a, R3, 2).alu64Imm(AluOp.AND, R3, 15).mov64(R4, 0).mov64(R0, 0);
            a.label("loop").jmp(JmpOp.JGE, R4, R3, "done")
                    .mov64Reg(R5, R1).alu64(AluOp.XOR, R5, R4).alu64(AluOp.ADD, R0, R5).add64(R4, 1).gotol("loop")
                    .label("done");
            out(a, R0, 1);
            a.exit();
            // f1(a, b) = f2(a) * 3 + b ; f2(a) = f3(a) - 1 ; f3(a) = a ^ 0x5a5a with its own stack use
            a.label("f1").mov64Reg(R7, R2).stx(Size.DW, R10, -8, R2).callLocal("f2")
                    .alu64Imm(AluOp.MUL, R0, 3).ldx(Size.DW, R2, R10, -8).alu64(AluOp.ADD, R0, R2)
                    .alu64(AluOp.ADD, R0, R7).exit();
            a.label("f2").callLocal("f3").add64(R0, -1).exit();
            a.label("f3").st(Size.DW, R10, -8, 0x5a5a).ldx(Size.DW, R0, R10, -8).alu64(AluOp.XOR, R0, R1).exit();
        }, 6);
    }

    @Test
    void randomStraightLinePrograms() {
        for (int seed = 0; seed < 40; seed++) {
            Random g = new Random(1000 + seed);
            compare("random#" + seed, a -> randomBody(a, g), 2000 + seed);
        }
    }

    static final int[] REGS = {R0, R1, R2, R3, R4, R5, R7, R8, R9};

    static void randomBody(Asm a, Random g) {
        for (int i = 0; i < REGS.length; i++) in(a, REGS[i], i);
        // the stack slots the body reads are written first (the kernel lets root read garbage)
        for (int k = 1; k <= 4; k++) a.st(Size.DW, R10, -8 * k, k);
        int n = 60;
        int labels = 0;
        List<String> pending = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int d = REGS[g.nextInt(REGS.length)], s = REGS[g.nextInt(REGS.length)];
            boolean wide = g.nextBoolean();
            switch (g.nextInt(10)) {
                case 0, 1, 2, 3 -> {
                    AluOp op = BINARY[g.nextInt(BINARY.length)];
                    if (wide) a.alu64(op, d, s); else a.alu32(op, d, s);
                }
                case 4, 5 -> {
                    AluOp op = BINARY[g.nextInt(BINARY.length)];
                    int imm = switch (op) {
                        case LSH, RSH, ARSH -> g.nextInt(wide ? 64 : 32);
                        case DIV, SDIV, MOD, SMOD -> g.nextBoolean() ? 1 + g.nextInt(50) : g.nextInt() | 1;
                        default -> g.nextBoolean() ? g.nextInt(100) - 50 : g.nextInt();
                    };
                    if (wide) a.alu64Imm(op, d, imm); else a.alu32Imm(op, d, imm);
                }
                case 6 -> {
                    switch (g.nextInt(5)) {
                        case 0 -> { if (wide) a.neg64(d); else a.neg32(d); }
                        case 1 -> a.movsx64(d, s, new int[]{8, 16, 32}[g.nextInt(3)]);
                        case 2 -> a.movsx32(d, s, g.nextBoolean() ? 8 : 16);
                        case 3 -> a.bswap(d, new int[]{16, 32, 64}[g.nextInt(3)]);
                        default -> { if (g.nextBoolean()) a.be(d, new int[]{16, 32, 64}[g.nextInt(3)]); else a.le(d, new int[]{16, 32, 64}[g.nextInt(3)]); }
                    }
                }
                case 7 -> {
                    String l = "L" + labels++;
                    JmpOp op = JmpOp.values()[g.nextInt(JmpOp.values().length)];
                    if (g.nextBoolean()) { if (wide) a.jmp(op, d, s, l); else a.jmp32(op, d, s, l); }
                    else { if (wide) a.jmpImm(op, d, g.nextInt(64) - 32, l); else a.jmp32Imm(op, d, g.nextInt(), l); }
                    pending.add(l);
                }
                case 8 -> {
                    switch (g.nextInt(4)) {
                        case 0 -> a.ldx(Size.values()[g.nextInt(4)], d, R6, IN + g.nextInt(OUT - 8));          // packet input
                        case 1 -> a.stx(Size.values()[g.nextInt(4)], R6, OUT + 80 + g.nextInt(200), s);     // packet scratch
                        case 2 -> {
                            AtomicOp[] ops = {AtomicOp.ADD, AtomicOp.OR, AtomicOp.AND, AtomicOp.XOR, AtomicOp.FETCH_ADD,
                                    AtomicOp.FETCH_OR, AtomicOp.FETCH_AND, AtomicOp.FETCH_XOR, AtomicOp.XCHG};
                            a.atomic(g.nextBoolean() ? Size.DW : Size.W, ops[g.nextInt(ops.length)], R10, -8 * (1 + g.nextInt(4)), s);
                        }
                        default -> {}
                    }
                    a.stx(Size.DW, R10, -8 * (1 + g.nextInt(4)), s);
                    Size sz = Size.values()[g.nextInt(4)];
                    int slot = -8 * (1 + g.nextInt(4));
                    if (sz != Size.DW && g.nextBoolean()) a.ldxs(sz, d, R10, slot); else a.ldx(sz, d, R10, slot);
                }
                default -> {
                    if (!pending.isEmpty() && g.nextBoolean()) a.label(pending.remove(g.nextInt(pending.size())));
                    else a.lddw(d, g.nextLong());
                }
            }
        }
        for (String l : pending) a.label(l);
        for (int i = 0; i < REGS.length; i++) out(a, REGS[i], i);
        a.exit();
    }

    @Test
    void mapLookupAndAtomicUpdatesMatchTheKernelMap() {
        VmMap vmArr = VmMap.create(MapDef.of("arr", MapType.ARRAY, 4, 16, 4), 1);
        VmMap vmHash = VmMap.create(MapDef.of("hash", MapType.HASH, 4, 8, 3), 1);
        try (KernelMap kArr = Bpf.createMap(MapType.ARRAY, "oracle_arr", 4, 16, 4, 0);
             KernelMap kHash = Bpf.createMap(MapType.HASH, "oracle_hash", 4, 8, 3, 0)) {
            compare("maps", a -> {
                // key = in0 & 7 (half the keys are out of range for the array)
                in(a, R7, 0).alu64Imm(AluOp.AND, R7, 7).stx(Size.W, R10, -4, R7);
                in(a, R8, 1);
                a.ldMap(R1, 0).mov64Reg(R2, R10).add64(R2, -4).call(1);
                a.jmpImm(JmpOp.JEQ, R0, 0, "miss")
                        .atomic(Size.DW, AtomicOp.ADD, R0, 0, R8)
                        .mov64Reg(R3, R8).atomic(Size.DW, AtomicOp.FETCH_XOR, R0, 8, R3)
                        .ldx(Size.DW, R4, R0, 0);
                out(a, R4, 0); out(a, R3, 1);
                a.label("miss");
                // hash: update with flags = in2 & 3 (3 is invalid), key = in0 & 7, value = in1
                in(a, R4, 2).alu64Imm(AluOp.AND, R4, 3).stx(Size.DW, R10, -16, R8);
                a.ldMap(R1, 1).mov64Reg(R2, R10).add64(R2, -4).mov64Reg(R3, R10).add64(R3, -16).call(2);
                out(a, R0, 2);
                // delete key (in3 & 7) when in3's bit 8 is set
                in(a, R5, 3).mov64Reg(R9, R5).alu64Imm(AluOp.AND, R9, 256).jmpImm(JmpOp.JEQ, R9, 0, "nodel")
                        .alu64Imm(AluOp.AND, R5, 7).stx(Size.W, R10, -8, R5)
                        .ldMap(R1, 1).mov64Reg(R2, R10).add64(R2, -8).call(3);
                out(a, R0, 3);
                a.label("nodel").mov64(R0, 0).exit();
            }, 7, List.of(kArr, kHash), List.of(vmArr, vmHash));
            for (int k = 0; k < 4; k++) assertArrayEquals(kArr.lookup(le32(k)), vmArr.lookup(le32(k)), "array value " + k);
            for (int k = 0; k < 8; k++) assertArrayEquals(kHash.lookup(le32(k)), vmHash.lookup(le32(k)), "hash value " + k);
        }
    }

    static byte[] le32(int v) { return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array(); }
}
