package dev.ublkctl.bpf.insn;

import static dev.ublkctl.bpf.insn.Opcodes.*;

import dev.ublkctl.bpf.insn.Instruction.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Decodes raw eBPF bytecode (little-endian 8-byte slots) into {@link Instruction}s. */
public final class Decoder {
    private Decoder() {}

    /** Splits bytecode into raw 64-bit slots. */
    public static long[] slots(byte[] code) {
        if (code.length % 8 != 0)
            throw new IllegalArgumentException("bytecode length " + code.length + " is not a multiple of 8");
        long[] s = new long[code.length / 8];
        ByteBuffer.wrap(code).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(s);
        return s;
    }

    /** Back to bytes. */
    public static byte[] bytes(long[] slots) {
        ByteBuffer b = ByteBuffer.allocate(slots.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(slots);
        return b.array();
    }

    /** Decodes every instruction; element i of the result starts at slot {@code indexes[i]}, see {@link #decodeAll(long[])}. */
    public static List<Instruction> decode(byte[] code) {
        return decodeAll(slots(code)).instructions();
    }

    /** Instructions with the slot index each starts at. */
    public record Listing(List<Instruction> instructions, int[] indexes) {}

    public static Listing decodeAll(long[] slots) {
        List<Instruction> out = new ArrayList<>(slots.length);
        int[] idx = new int[slots.length];
        int n = 0;
        for (int i = 0; i < slots.length; ) {
            Instruction insn = decode(slots, i);
            idx[n++] = i;
            out.add(insn);
            i += insn.slots();
        }
        return new Listing(Collections.unmodifiableList(out), java.util.Arrays.copyOf(idx, n));
    }

    /** Decodes the instruction starting at slot {@code i}. Never throws for bad input: returns {@link Unknown}. */
    public static Instruction decode(long[] slots, int i) {
        long raw = slots[i];
        int opcode = Opcodes.opcode(raw), dst = Opcodes.dst(raw), src = Opcodes.src(raw);
        int off = Opcodes.off(raw), imm = Opcodes.imm(raw);
        if (dst > 10) return new Unknown(raw, "invalid destination register r" + dst);
        if (src > 10) return new Unknown(raw, "invalid source register r" + src);
        return switch (cls(opcode)) {
            case ALU, ALU64 -> alu(raw, opcode, dst, src, off, imm);
            case JMP, JMP32 -> jmp(raw, opcode, dst, src, off, imm);
            case LD -> ld(slots, i, raw, opcode, dst, src);
            case LDX -> {
                int mode = mode(opcode);
                if (mode == MEM) yield new Load(opcode, Size.ofField(opcode), false, dst, src, off);
                if (mode == MEMSX && size(opcode) != DW) yield new Load(opcode, Size.ofField(opcode), true, dst, src, off);
                yield new Unknown(raw, "invalid LDX mode");
            }
            case ST -> mode(opcode) == MEM
                    ? new Store(opcode, Size.ofField(opcode), false, dst, 0, off, imm)
                    : new Unknown(raw, "invalid ST mode");
            case STX -> {
                int mode = mode(opcode);
                if (mode == MEM) yield new Store(opcode, Size.ofField(opcode), true, dst, src, off, 0);
                if (mode != ATOMIC) yield new Unknown(raw, "invalid STX mode");
                AtomicOp op = AtomicOp.ofImm(imm);
                if (op == null) yield new Unknown(raw, String.format("invalid atomic operation 0x%x", imm));
                Size size = Size.ofField(opcode);
                boolean ordered = op == AtomicOp.LOAD_ACQUIRE || op == AtomicOp.STORE_RELEASE;
                if (!ordered && size != Size.W && size != Size.DW)
                    yield new Unknown(raw, "atomic read-modify-write needs a 32- or 64-bit size");
                yield new Atomic(opcode, size, op, dst, src, off);
            }
            default -> throw new AssertionError();
        };
    }

    private static Instruction alu(long raw, int opcode, int dst, int src, int off, int imm) {
        boolean wide = cls(opcode) == ALU64;
        boolean x = (opcode & X) != 0;
        int op = op(opcode);
        if (op == END) {
            if (imm != 16 && imm != 32 && imm != 64) return new Unknown(raw, "byte swap width must be 16, 32 or 64, not " + imm);
            if (wide) {
                if (x) return new Unknown(raw, "BSWAP takes no source bit");
                return new ByteSwap(opcode, SwapKind.BSWAP, imm, dst);
            }
            return new ByteSwap(opcode, x ? SwapKind.BE : SwapKind.LE, imm, dst);
        }
        AluOp kind = switch (op) {
            case ADD -> AluOp.ADD; case SUB -> AluOp.SUB; case MUL -> AluOp.MUL;
            case DIV -> off == 1 ? AluOp.SDIV : off == 0 ? AluOp.DIV : null;
            case OR -> AluOp.OR; case AND -> AluOp.AND; case LSH -> AluOp.LSH; case RSH -> AluOp.RSH;
            case NEG -> x ? null : AluOp.NEG;
            case MOD -> off == 1 ? AluOp.SMOD : off == 0 ? AluOp.MOD : null;
            case XOR -> AluOp.XOR;
            case MOV -> off == 0 ? AluOp.MOV
                    : x && (off == 8 || off == 16 || (off == 32 && wide)) ? AluOp.MOVSX : null;
            case ARSH -> AluOp.ARSH;
            default -> null;
        };
        if (kind == null) return new Unknown(raw, String.format("invalid ALU opcode 0x%02x with offset %d", opcode, off));
        if (off != 0 && kind != AluOp.SDIV && kind != AluOp.SMOD && kind != AluOp.MOVSX)
            return new Unknown(raw, "ALU offset field must be 0");
        return new Alu(opcode, wide, kind, x, dst, src, off, imm);
    }

    private static Instruction jmp(long raw, int opcode, int dst, int src, int off, int imm) {
        boolean wide = cls(opcode) == JMP;
        boolean x = (opcode & X) != 0;
        int op = op(opcode);
        switch (op) {
            case JA:
                if (x) return new Unknown(raw, "goto takes no source bit");
                return wide ? new Goto(opcode, false, off) : new Goto(opcode, true, imm);
            case CALL:
                if (!wide || x) return new Unknown(raw, "invalid call opcode");
                CallKind kind = CallKind.ofSrc(src);
                return kind == null ? new Unknown(raw, "invalid call kind (src " + src + ")") : new Call(kind, imm);
            case EXIT:
                if (!wide || x) return new Unknown(raw, "invalid exit opcode");
                return new Exit();
            default:
                JmpOp j = JmpOp.ofCode(op);
                if (j == null) return new Unknown(raw, String.format("invalid jump opcode 0x%02x", opcode));
                return new Jump(opcode, wide, j, x, dst, src, off, imm);
        }
    }

    private static Instruction ld(long[] slots, int i, long raw, int opcode, int dst, int src) {
        if (opcode != LDDW) {
            int mode = mode(opcode);
            return new Unknown(raw, mode == ABS || mode == IND
                    ? "legacy packet access (BPF_ABS/BPF_IND) is not supported" : "invalid LD opcode");
        }
        if (i + 1 >= slots.length) return new Unknown(raw, "64-bit immediate load lacks its second slot");
        long next = slots[i + 1];
        if ((next & 0xffffffffL) != 0) return new Unknown(raw, "second slot of a 64-bit immediate load must have zero opcode, registers and offset");
        long imm = (raw >>> 32) | (next & 0xffffffff00000000L);
        ImmKind kind = ImmKind.ofSrc(src);
        if (kind == null) return new Unknown(raw, "unsupported 64-bit immediate kind (src " + src + ")");
        return new LoadImm64(dst, kind, imm);
    }
}
