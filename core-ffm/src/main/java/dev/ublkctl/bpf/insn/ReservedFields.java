package dev.ublkctl.bpf.insn;

import static dev.ublkctl.bpf.insn.Opcodes.*;

/**
 * The kernel verifier's rule that fields an instruction does not use must be zero, with its words
 * ({@code kernel/bpf/verifier.c}: "BPF_ALU uses reserved fields", ...). The decoder accepts any value
 * in an unused field (a disassembler shows what is there); a program to run is held to the kernel's
 * encoding: the same bytes load in both or in neither.
 */
public final class ReservedFields {
    private ReservedFields() {}

    /** Why the kernel refuses this decoded instruction's encoding, or null if it does not. */
    public static String violation(long raw, Instruction insn) {
        int opcode = opcode(raw), dst = dst(raw), src = src(raw), off = off(raw), imm = imm(raw);
        boolean x = (opcode & X) != 0;
        return switch (insn) {
            case Instruction.Alu a -> {
                if (a.op() == Instruction.AluOp.NEG)
                    yield src != 0 || off != 0 || imm != 0 ? "BPF_NEG uses reserved fields" : null;
                if (a.op() == Instruction.AluOp.MOV || a.op() == Instruction.AluOp.MOVSX)
                    yield (x ? imm != 0 : src != 0 || off != 0) ? "BPF_MOV uses reserved fields" : null;
                yield (x ? imm != 0 : src != 0) ? "BPF_ALU uses reserved fields" : null;
            }
            case Instruction.ByteSwap b -> src != 0 || off != 0 ? "BPF_END uses reserved fields" : null;
            case Instruction.Goto g -> src != 0 || dst != 0 || (cls(opcode) == JMP ? imm != 0 : off != 0)
                    ? "BPF_JA uses reserved fields" : null;
            case Instruction.Call c -> dst != 0 || (c.kind() != Instruction.CallKind.KFUNC && off != 0)
                    ? "BPF_CALL uses reserved fields" : null;
            case Instruction.Exit e -> imm != 0 || src != 0 || dst != 0 ? "BPF_EXIT uses reserved fields" : null;
            case Instruction.Jump j -> (x ? imm != 0 : src != 0) ? "BPF_JMP/JMP32 uses reserved fields" : null;
            case Instruction.Load l -> imm != 0 ? "BPF_LDX uses reserved fields" : null;
            case Instruction.Store s -> cls(opcode) == STX ? (imm != 0 ? "BPF_STX uses reserved fields" : null)
                    : (src != 0 ? "BPF_ST uses reserved fields" : null);
            case Instruction.LoadImm64 l -> off != 0 ? "BPF_LD_IMM64 uses reserved fields" : null;
            default -> null;
        };
    }
}
