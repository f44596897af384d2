package dev.ublkctl.bpf.vm;

import static dev.ublkctl.bpf.insn.Asm.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.ublkctl.bpf.insn.Asm;
import dev.ublkctl.bpf.insn.Decoder;
import dev.ublkctl.bpf.insn.Disassembler;
import dev.ublkctl.bpf.insn.Instruction.AluOp;
import dev.ublkctl.bpf.insn.Instruction.JmpOp;
import dev.ublkctl.bpf.insn.Instruction.Size;

import org.junit.jupiter.api.Test;

/** ld_imm64 src 4 (function addresses) and bpf_loop, which runs BPF callbacks from a helper. */
class CallbackTest {
    /** The engine under test: the interpreter here, the JIT in the JitCallbackTest subclass. */
    ExecutionEngine engine() { return new Interpreter(); }

    final ExecutionEngine VM = engine();

    long run(Asm a, long... r) throws VmFault {
        VmProgram p = VmProgram.builder("cb", a.bytes()).prepare();
        long[] x = java.util.Arrays.copyOf(r, 5);
        return VM.run(p, new VmContext(), x[0], x[1], x[2], x[3], x[4]);
    }

    /** main: sum = 0; n = bpf_loop(r1, add_i, &sum, 0); return sum * 1000 + n (r6 survives the helper). */
    static Asm sumLoop(String callbackBody) {
        Asm a = new Asm().mov64(R6, 7).st(Size.DW, R10, -8, 0)
                .ldFunc(R2, "cb").mov64Reg(R3, R10).add64(R3, -8).mov64(R4, 0)
                .call(StandardHelpers.LOOP)
                .ldx(Size.DW, R1, R10, -8).alu64Imm(AluOp.MUL, R1, 1000).alu64(AluOp.ADD, R0, R1)
                .alu64Imm(AluOp.MUL, R6, 1_000_000).alu64(AluOp.ADD, R0, R6).exit()
                // cb(i, ctx): *ctx += i; return i == 5 (stop after index 5) when asked
                .label("cb").ldx(Size.DW, R3, R2, 0).alu64(AluOp.ADD, R3, R1).stx(Size.DW, R2, 0, R3)
                .mov64(R6, 99).mov64(R0, 0);
        if (callbackBody.equals("stop-at-5")) a.jmpImm(JmpOp.JNE, R1, 5, "ret").mov64(R0, 1);
        return a.label("ret").exit();
    }

    @Test
    void bpfLoopRunsTheCallbackWithIndexAndContext() throws VmFault {
        assertEquals(7_000_000 + 45 * 1000 + 10, run(sumLoop("all"), 10));
        assertEquals(7_000_000 + 15 * 1000 + 6, run(sumLoop("stop-at-5"), 10), "returns i + 1 when the callback stops");
        assertEquals(7_000_000, run(sumLoop("all"), 0));
    }

    @Test
    void bpfLoopRefusesBadArguments() throws VmFault {
        assertEquals(-7, run(new Asm().mov64Reg(R1, R1).ldFunc(R2, "cb").mov64(R3, 0).mov64(R4, 0).call(181).exit()
                .label("cb").ret(0), (1 << 23) + 1));
        assertEquals(-22, run(new Asm().ldFunc(R2, "cb").mov64(R3, 0).mov64(R4, 1).call(181).exit()
                .label("cb").ret(0), 1));
        VmFault f = assertThrows(VmFault.class, () -> run(new Asm().mov64(R2, 12).mov64(R3, 0).mov64(R4, 0).call(181).exit(), 1));
        assertTrue(f.getMessage().contains("not a function"), f.getMessage());
    }

    @Test
    void faultsInsideCallbacksNameTheCallbackInstruction() {
        Asm a = new Asm().ldFunc(R2, "cb").mov64(R3, 0).mov64(R4, 0).call(181).exit()
                .label("cb").ldx(Size.DW, R0, R2, 0).exit();   // ctx is NULL: the load faults
        VmFault f = assertThrows(VmFault.class, () -> run(a, 3));
        assertEquals(VmFault.Kind.MEMORY, f.kind());
        assertEquals(6, f.insnIndex(), "the load in the callback");
    }

    @Test
    void callbacksShareTheBudgetAndTheFrameLimit() {
        Asm spin = new Asm().ldFunc(R2, "cb").mov64(R3, 0).mov64(R4, 0).call(181).exit()
                .label("cb").label("l").ja("l");
        VmFault f = assertThrows(VmFault.class, () -> run(spin, 1));
        assertEquals(VmFault.Kind.BUDGET, f.kind());
        // each callback calls bpf_loop again: frames run out
        Asm nest = new Asm().label("cb").mov64(R1, 1).ldFunc(R2, "cb").mov64(R3, 0).mov64(R4, 0).call(181).exit();
        VmFault g = assertThrows(VmFault.class, () -> run(nest));
        assertEquals(VmFault.Kind.CALL_DEPTH, g.kind());
    }

    @Test
    void functionAddressesMustPointAtInstructions() {
        long[] s = new Asm().lddw(R1, 0).exit().slots();
        s[0] = s[0] | (4L << 12) | (5L << 32);   // src 4, target 0 + 5 + 1 = 6: outside
        VmFault f = assertThrows(VmFault.class, () -> VmProgram.builder("f", s).prepare());
        assertTrue(f.getMessage().contains("function address"), f.getMessage());
        assertEquals("(18) r2 = func pc+3", new Disassembler().format(Decoder.decode(
                new Asm().ldFunc(R2, "x").exit().exit().label("x").exit().slots(), 0)));
    }
}
