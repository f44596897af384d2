package dev.ublkctl.bpf.insn;

import static dev.ublkctl.bpf.insn.Asm.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ublkctl.bpf.insn.Instruction.AluOp;
import dev.ublkctl.bpf.insn.Instruction.AtomicOp;
import dev.ublkctl.bpf.insn.Instruction.JmpOp;
import dev.ublkctl.bpf.insn.Instruction.Size;
import dev.ublkctl.bpf.kernel.Bpf;
import dev.ublkctl.bpf.kernel.KernelProgram;
import dev.ublkctl.bpf.object.ProgramType;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** The listing matches {@code bpftool prog dump xlated} of the same program loaded into the kernel. */
class BpftoolFormatTest {

    @Test
    void listingMatchesBpftool() throws Exception {
        String why = Bpf.unavailableReason();
        if (why != null) System.out.println("SKIP bpftool comparison: " + why);
        assumeTrue(why == null, () -> "bpf(2) not usable here: " + why);
        // instructions the kernel keeps as written (no ctx rewrites, no division guards, no dead code);
        // the host's bpftool predates movsx/ldsx/bswap, so those are covered by DisassemblerTest only
        Asm m = new Asm().mov64(R0, 0).mov32(R1, -1).mov64Reg(R2, R1).alu64Imm(AluOp.ADD, R2, -8)
                .alu32(AluOp.XOR, R1, R2).alu64Imm(AluOp.ARSH, R2, 3).neg64(R2).alu64(AluOp.LSH, R2, R1)
                .mov64Reg(R3, R2).be(R3, 16).le(R3, 32).alu32Imm(AluOp.OR, R3, 0x40)
                .stx(Size.DW, R10, -8, R3).st(Size.W, R10, -16, 7).ldx(Size.W, R5, R10, -16).stx(Size.B, R10, -1, R5)
                .atomic(Size.DW, AtomicOp.ADD, R10, -8, R1).atomic(Size.DW, AtomicOp.FETCH_OR, R10, -8, R1)
                .atomic(Size.W, AtomicOp.XCHG, R10, -16, R1).atomic(Size.DW, AtomicOp.CMPXCHG, R10, -8, R5)
                .atomic(Size.W, AtomicOp.AND, R10, -16, R2)
                .lddw(R6, 0x1122334455667788L)
                .jmpImm(JmpOp.JGT, R1, 0x10, "a").mov64(R0, 1).label("a")
                .exit();   // (helper calls show kernel addresses in xlated dumps; known-outcome branches get pruned)
        byte[] code = m.bytes();
        String bpftool;
        try (KernelProgram p = Bpf.loadProgram(new Bpf.ProgramLoad(ProgramType.XDP, code, "GPL", "fmt"))) {
            Process pr;
            try {
                pr = new ProcessBuilder("bpftool", "prog", "dump", "xlated", "id", Integer.toString(p.info().id()))
                        .redirectErrorStream(true).start();
            } catch (java.io.IOException e) {
                System.out.println("SKIP: bpftool not runnable: " + e.getMessage());
                assumeTrue(false, "bpftool not runnable");
                return;
            }
            bpftool = new String(pr.getInputStream().readAllBytes());
            assertTrue(pr.waitFor(30, TimeUnit.SECONDS));
            assumeTrue(pr.exitValue() == 0, () -> "bpftool failed: " + pr.exitValue());
        }
        assertEquals(bpftool.strip(), new Disassembler().dump(code).strip());
    }
}
