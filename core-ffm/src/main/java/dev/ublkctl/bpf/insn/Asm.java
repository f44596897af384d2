package dev.ublkctl.bpf.insn;

import static dev.ublkctl.bpf.insn.Opcodes.*;

import dev.ublkctl.bpf.insn.Instruction.AluOp;
import dev.ublkctl.bpf.insn.Instruction.AtomicOp;
import dev.ublkctl.bpf.insn.Instruction.JmpOp;
import dev.ublkctl.bpf.insn.Instruction.Size;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A small eBPF assembler for hand-written programs (tests, oracle corpus, benchmarks).
 * Jumps and bpf-to-bpf calls take label names, resolved by {@link #slots()}.
 * <pre>{@code
 * byte[] prog = new Asm().mov64(R0, 0).jmpImm(JmpOp.JEQ, R1, 0, "out").mov64(R0, 1)
 *         .label("out").exit().bytes();
 * }</pre>
 */
public final class Asm {
    public static final int R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7, R8 = 8, R9 = 9, R10 = 10;

    private long[] code = new long[32];
    private int n;
    private final Map<String, Integer> labels = new HashMap<>();
    private record Fixup(int at, String label, boolean inImm) {}
    private final List<Fixup> fixups = new ArrayList<>();

    /** Slot index of the next instruction. */
    public int size() { return n; }

    public Asm label(String name) {
        if (labels.putIfAbsent(name, n) != null) throw new IllegalArgumentException("label defined twice: " + name);
        return this;
    }

    /** Any slot, field by field. */
    public Asm raw(int opcode, int dst, int src, int off, int imm) {
        if (n == code.length) code = Arrays.copyOf(code, n * 2);
        code[n++] = Opcodes.encode(opcode, dst, src, off, imm);
        return this;
    }

    // ---- ALU
    private static int aluOff(AluOp op, int bits) {
        return switch (op) { case SDIV, SMOD -> 1; case MOVSX -> bits; default -> 0; };
    }
    private Asm alu(int cls, AluOp op, boolean x, int dst, int src, int imm, int bits) {
        return raw(cls | op.code | (x ? X : K), dst, src, aluOff(op, bits), imm);
    }
    public Asm alu64(AluOp op, int dst, int src) { return alu(ALU64, op, true, dst, src, 0, 0); }
    public Asm alu64Imm(AluOp op, int dst, int imm) { return alu(ALU64, op, false, dst, 0, imm, 0); }
    public Asm alu32(AluOp op, int dst, int src) { return alu(ALU, op, true, dst, src, 0, 0); }
    public Asm alu32Imm(AluOp op, int dst, int imm) { return alu(ALU, op, false, dst, 0, imm, 0); }
    public Asm mov64(int dst, int imm) { return alu64Imm(AluOp.MOV, dst, imm); }
    public Asm mov64Reg(int dst, int src) { return alu64(AluOp.MOV, dst, src); }
    public Asm mov32(int dst, int imm) { return alu32Imm(AluOp.MOV, dst, imm); }
    public Asm mov32Reg(int dst, int src) { return alu32(AluOp.MOV, dst, src); }
    public Asm add64(int dst, int imm) { return alu64Imm(AluOp.ADD, dst, imm); }
    /** {@code dst = (s<bits>) src}, bits 8, 16 or 32. */
    public Asm movsx64(int dst, int src, int bits) { return alu(ALU64, AluOp.MOVSX, true, dst, src, 0, bits); }
    /** {@code wdst = (s<bits>) wsrc}, bits 8 or 16. */
    public Asm movsx32(int dst, int src, int bits) { return alu(ALU, AluOp.MOVSX, true, dst, src, 0, bits); }
    public Asm neg64(int dst) { return raw(ALU64 | NEG, dst, 0, 0, 0); }
    public Asm neg32(int dst) { return raw(ALU | NEG, dst, 0, 0, 0); }
    public Asm le(int dst, int width) { return raw(ALU | END | TO_LE, dst, 0, 0, width); }
    public Asm be(int dst, int width) { return raw(ALU | END | TO_BE, dst, 0, 0, width); }
    public Asm bswap(int dst, int width) { return raw(ALU64 | END, dst, 0, 0, width); }

    // ---- 64-bit immediates
    private Asm lddw(int dst, int src, long imm) {
        raw(LDDW, dst, src, 0, (int) imm);
        return raw(0, 0, 0, 0, (int) (imm >>> 32));
    }
    public Asm lddw(int dst, long imm) { return lddw(dst, 0, imm); }
    /** {@code dst = &map[index]} (pointer to the program's map number {@code index}). */
    public Asm ldMap(int dst, int mapIndex) { return lddw(dst, Instruction.ImmKind.MAP.src, mapIndex & 0xffffffffL); }
    /** {@code dst = &value_of(map[index]) + off} (direct value access, global data). */
    public Asm ldMapValue(int dst, int mapIndex, int off) {
        return lddw(dst, Instruction.ImmKind.MAP_VALUE.src, (mapIndex & 0xffffffffL) | ((long) off << 32));
    }

    /** {@code dst = &function} (ld_imm64 src 4) for callbacks such as bpf_loop's. */
    public Asm ldFunc(int dst, String label) {
        fixups.add(new Fixup(n, label, true));
        return lddw(dst, Instruction.ImmKind.FUNC.src, 0);
    }

    // ---- memory
    /** {@code dst = *(size *)(src + off)}. */
    public Asm ldx(Size size, int dst, int src, int off) { return raw(LDX | MEM | size.field(), dst, src, off, 0); }
    /** Sign-extending load {@code dst = *(s<size> *)(src + off)}. */
    public Asm ldxs(Size size, int dst, int src, int off) { return raw(LDX | MEMSX | size.field(), dst, src, off, 0); }
    /** {@code *(size *)(dst + off) = imm}. */
    public Asm st(Size size, int dst, int off, int imm) { return raw(ST | MEM | size.field(), dst, 0, off, imm); }
    /** {@code *(size *)(dst + off) = src}. */
    public Asm stx(Size size, int dst, int off, int src) { return raw(STX | MEM | size.field(), dst, src, off, 0); }
    /** Atomic {@code op} on {@code *(size *)(dst + off)} with {@code src} (for load-acquire: {@code dst = *(src+off)}). */
    public Asm atomic(Size size, AtomicOp op, int dst, int off, int src) { return raw(STX | ATOMIC | size.field(), dst, src, off, op.imm); }

    // ---- jumps
    private Asm jumpTo(int opcode, int dst, int src, int imm, String label) {
        fixups.add(new Fixup(n, label, false));
        return raw(opcode, dst, src, 0, imm);
    }
    public Asm jmp(JmpOp op, int dst, int src, String label) { return jumpTo(JMP | op.code | X, dst, src, 0, label); }
    public Asm jmpImm(JmpOp op, int dst, int imm, String label) { return jumpTo(JMP | op.code | K, dst, 0, imm, label); }
    public Asm jmp32(JmpOp op, int dst, int src, String label) { return jumpTo(JMP32 | op.code | X, dst, src, 0, label); }
    public Asm jmp32Imm(JmpOp op, int dst, int imm, String label) { return jumpTo(JMP32 | op.code | K, dst, 0, imm, label); }
    public Asm ja(String label) { return jumpTo(JMP | JA, 0, 0, 0, label); }
    /** {@code gotol}: JMP32 JA with a 32-bit offset in imm. */
    public Asm gotol(String label) {
        fixups.add(new Fixup(n, label, true));
        return raw(JMP32 | JA, 0, 0, 0, 0);
    }

    // ---- calls
    public Asm call(int helperId) { return raw(JMP | CALL, 0, 0, 0, helperId); }
    public Asm callKfunc(int kfuncIndex) { return raw(JMP | CALL, 0, Instruction.CallKind.KFUNC.src, 0, kfuncIndex); }
    public Asm callLocal(String label) {
        fixups.add(new Fixup(n, label, true));
        return raw(JMP | CALL, 0, Instruction.CallKind.LOCAL.src, 0, 0);
    }
    public Asm exit() { return raw(JMP | EXIT, 0, 0, 0, 0); }
    /** {@code r0 = imm; exit}. */
    public Asm ret(int imm) { return mov64(R0, imm).exit(); }

    /** The assembled slots, labels resolved. */
    public long[] slots() {
        long[] out = Arrays.copyOf(code, n);
        for (Fixup f : fixups) {
            Integer target = labels.get(f.label);
            if (target == null) throw new IllegalArgumentException("undefined label: " + f.label);
            int rel = target - f.at - 1;
            long s = out[f.at];
            if (f.inImm) {
                out[f.at] = (s & 0xffffffffL) | ((rel & 0xffffffffL) << 32);
            } else {
                if (rel != (short) rel) throw new IllegalArgumentException("jump to " + f.label + " out of 16-bit range");
                out[f.at] = (s & ~0xffff0000L) | ((rel & 0xffffL) << 16);
            }
        }
        return out;
    }

    public byte[] bytes() { return Decoder.bytes(slots()); }
}
