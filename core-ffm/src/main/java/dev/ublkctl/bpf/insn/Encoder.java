package dev.ublkctl.bpf.insn;

import dev.ublkctl.bpf.insn.Instruction.*;

import java.util.List;

import static dev.ublkctl.bpf.insn.Opcodes.*;

/**
 * Instructions back to raw slots: the inverse of {@link Decoder} (a decoded instruction encodes
 * to the slots it came from; the round trip is tested on every bundled program). The opcode
 * byte is built from the instruction's meaning (class, operation, source, size, mode), so a
 * record changed by the loader (a map index, a call's kind and target) encodes as what it says.
 */
public final class Encoder {
    private Encoder() {}

    /** The slots of one instruction (two for {@link LoadImm64}). */
    public static long[] encode(Instruction insn) {
        return switch (insn) {
            case Alu a -> one((a.wide() ? ALU64 : ALU) | a.op().code | (a.regSource() ? X : K), a.dst(), a.src(), a.off(), a.imm());
            case ByteSwap s -> one(switch (s.kind()) {
                case LE -> ALU | END | TO_LE;
                case BE -> ALU | END | TO_BE;
                case BSWAP -> ALU64 | END;
            }, s.dst(), 0, 0, s.width());
            case Jump j -> one((j.wide() ? JMP : JMP32) | j.op().code | (j.regSource() ? X : K), j.dst(), j.src(), j.off(), j.imm());
            case Goto g -> g.longJump() ? one(JMP32 | Opcodes.JA, 0, 0, 0, g.offset()) : one(JMP | Opcodes.JA, 0, 0, g.offset(), 0);
            case LoadImm64 l -> new long[]{
                    Opcodes.encode(LDDW, l.dst(), l.kind().src, 0, (int) l.imm()),
                    Opcodes.encode(0, 0, 0, 0, (int) (l.imm() >>> 32))};
            case Load l -> one(LDX | (l.signExtend() ? MEMSX : MEM) | l.size().field(), l.dst(), l.src(), l.off(), 0);
            case Store s -> s.regSource()
                    ? one(STX | MEM | s.size().field(), s.dst(), s.src(), s.off(), 0)
                    : one(ST | MEM | s.size().field(), s.dst(), 0, s.off(), s.imm());
            case Atomic a -> one(STX | ATOMIC | a.size().field(), a.dst(), a.src(), a.off(), a.op().imm);
            case Call c -> one(JMP | CALL, 0, c.kind().src, 0, c.imm());
            case Exit e -> one(JMP | EXIT, 0, 0, 0, 0);
            case Unknown u -> new long[]{u.raw()};
        };
    }

    /** A sequence of instructions as one program's slots. */
    public static long[] encode(List<Instruction> insns) {
        int n = 0;
        for (Instruction i : insns) n += i.slots();
        long[] out = new long[n];
        int at = 0;
        for (Instruction i : insns) {
            long[] s = encode(i);
            System.arraycopy(s, 0, out, at, s.length);
            at += s.length;
        }
        return out;
    }

    private static long[] one(int opcode, int dst, int src, int off, int imm) {
        return new long[]{Opcodes.encode(opcode, dst, src, off, imm)};
    }
}
