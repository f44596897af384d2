package dev.ublkctl.bpf.jit;

import static dev.ublkctl.bpf.insn.Asm.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.ublkctl.bpf.insn.Asm;
import dev.ublkctl.bpf.insn.Instruction.AluOp;
import dev.ublkctl.bpf.insn.Instruction.JmpOp;
import dev.ublkctl.bpf.insn.Instruction.Size;
import dev.ublkctl.bpf.vm.Interpreter;
import dev.ublkctl.bpf.vm.VmContext;
import dev.ublkctl.bpf.vm.VmFault;
import dev.ublkctl.bpf.vm.VmProgram;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

/** What is particular to the JIT: compiling once, size fallback, budget hand-over, fault placement. */
class JitEngineTest {
    static final JitEngine JIT = new JitEngine();
    static final Interpreter INTERP = new Interpreter();

    static VmProgram prog(String name, Asm a) throws VmFault { return VmProgram.builder(name, a.bytes()).prepare(); }

    /** The outcome as text: r0 and instruction count, or the fault. */
    static String outcome(dev.ublkctl.bpf.vm.ExecutionEngine vm, VmProgram p, long budget, long r1) {
        VmContext ctx = new VmContext();
        ctx.setBudget(budget);
        try {
            long r0 = vm.run(p, ctx, r1, 0, 0, 0, 0);
            return "r0=" + r0 + " insns=" + ctx.lastRunInstructions();
        } catch (VmFault f) {
            return f.kind() + " at " + f.insnIndex() + ": " + f.getMessage() + " insns=" + ctx.lastRunInstructions();
        }
    }

    @Test
    void compilesOncePerProgramAndSaysSo() throws VmFault {
        VmProgram p = prog("two", new Asm().mov64(R0, 2).exit());
        Compilation c = JitEngine.compile(p);
        Compilation.Compiled k = assertInstanceOf(Compilation.Compiled.class, c);
        assertSame(c, JitEngine.compile(p), "the class is kept on the program");
        assertSame(c, JitEngine.compilationIfPresent(p));
        assertTrue(k.bytecodeSize() > 0 && k.compileNanos() > 0);
        assertTrue(c.describe().startsWith("jit ("), c.describe());
        assertEquals(2, JIT.run(p, new VmContext(), 0, 0, 0, 0, 0));
    }

    @Test
    void concurrentFirstRunsCompileOnce() throws Exception {
        VmProgram p = prog("race", new Asm().mov64Reg(R0, R1).add64(R0, 1).exit());
        ExecutorService ex = Executors.newFixedThreadPool(4);
        try {
            CountDownLatch go = new CountDownLatch(1);
            var seen = ConcurrentHashMap.<Object>newKeySet();
            Future<?>[] fs = new Future<?>[4];
            for (int t = 0; t < 4; t++) {
                long arg = t;
                fs[t] = ex.submit(() -> {
                    go.await();
                    VmContext ctx = new VmContext();
                    for (int i = 0; i < 1000; i++) assertEquals(arg + 1, JIT.run(p, ctx, arg, 0, 0, 0, 0));
                    seen.add(JitEngine.compilationIfPresent(p));
                    return null;
                });
            }
            go.countDown();
            for (Future<?> f : fs) f.get();
            assertEquals(1, seen.size(), "one compilation shared by all threads");
        } finally {
            ex.shutdownNow();
        }
    }

    /** A loop of several blocks and a bpf-to-bpf call: every budget from 1 up gives the interpreter's outcome. */
    @Test
    void everyBudgetGivesTheInterpretersFaultAndCount() throws VmFault {
        Asm a = new Asm().mov64(R6, 0).mov64(R0, 0)
                .label("loop").mov64Reg(R1, R6).callLocal("sq").alu64(AluOp.ADD, R7, R0)
                .st(Size.DW, R10, -8, 1).ldx(Size.DW, R2, R10, -8)
                .alu64(AluOp.ADD, R6, R2).jmpImm(JmpOp.JLT, R6, 6, "loop")
                .mov64Reg(R0, R7).exit()
                .label("sq").mov64Reg(R0, R1).alu64(AluOp.MUL, R0, R1).exit();
        VmProgram pi = prog("budget", a), pj = prog("budget", a);
        String full = outcome(INTERP, pi, 1_000_000, 0);
        assertTrue(full.startsWith("r0=55"), full);
        int used = Integer.parseInt(full.substring(full.indexOf("insns=") + 6));
        for (int b = 1; b <= used + 2; b++)
            assertEquals(outcome(INTERP, pi, b, 0), outcome(JIT, pj, b, 0), "budget " + b);
    }

    @Test
    void faultsInTheMiddleOfABlockNameThatInstruction() throws VmFault {
        // the third load of the block goes past the 16-byte context
        Asm a = new Asm().ldx(Size.DW, R2, R1, 0).ldx(Size.DW, R3, R1, 8).ldx(Size.W, R4, R1, 14)
                .alu64(AluOp.ADD, R2, R3).mov64Reg(R0, R2).exit();
        VmProgram p = VmProgram.builder("mid", a.bytes()).sourceLines(i -> i == 2 ? "int x = ctx->past_end;" : null).prepare();
        VmContext ctx = new VmContext();
        VmFault f = assertThrows(VmFault.class, () -> JIT.runWithContext(p, ctx, MemorySegment.ofArray(new byte[16]), true));
        assertEquals(VmFault.Kind.MEMORY, f.kind());
        assertEquals(2, f.insnIndex());
        assertEquals("int x = ctx->past_end;", f.sourceLine());
        assertEquals(3, ctx.lastRunInstructions(), "the instructions after the fault are not counted");
        VmContext ictx = new VmContext();
        VmFault g = assertThrows(VmFault.class, () -> INTERP.runWithContext(p, ictx, MemorySegment.ofArray(new byte[16]), true));
        assertEquals(g.getMessage(), f.getMessage());
    }

    @Test
    void helperExceptionsAreHelperFaultsAtTheCall() throws VmFault {
        var reg = dev.ublkctl.bpf.vm.FunctionRegistry.standard();
        reg.register("boom", (c, a, b, d, e, g) -> { throw new IllegalStateException("kaput"); });
        VmProgram p = VmProgram.builder("h", new Asm().mov64(R1, 1).callKfunc(0).exit().bytes())
                .kfuncs(java.util.List.of("boom")).registry(reg).prepare();
        VmFault f = assertThrows(VmFault.class, () -> JIT.run(p, new VmContext(), 0, 0, 0, 0, 0));
        assertEquals(VmFault.Kind.HELPER, f.kind());
        assertEquals(1, f.insnIndex());
        assertTrue(f.getMessage().contains("boom failed") && f.getMessage().contains("kaput"), f.getMessage());
    }

    /** Straight-line code past what HotSpot compiles in one method: split into chunk methods, same outcome. */
    @Test
    void hugeProgramIsSplitIntoSeveralMethods() throws VmFault {
        Random r = new Random(13);
        Asm a = new Asm().mov64(R0, 0).mov64(R6, 0);
        for (int i = 0; i < 6000; i++) {
            switch (r.nextInt(4)) {
                case 0 -> a.alu64Imm(AluOp.ADD, R0, r.nextInt(100));
                case 1 -> a.alu64Imm(AluOp.XOR, R0, r.nextInt());
                case 2 -> a.stx(Size.DW, R10, -8 * (1 + r.nextInt(8)), R0).ldx(Size.DW, R6, R10, -8);
                default -> a.alu64(AluOp.ADD, R0, R6);
            }
        }
        a.exit();
        VmProgram pj = prog("huge", a), pi = prog("huge", a);
        Compilation.Compiled c = assertInstanceOf(Compilation.Compiled.class, JitEngine.compile(pj));
        assertTrue(c.bytecodeSize() > JitCompiler.HUGE_METHOD_LIMIT, c.describe());
        assertEquals(outcome(INTERP, pi, 1_000_000, 0), outcome(JIT, pj, 1_000_000, 0));
        for (int b : new int[]{1, 100, 3000, 7000})
            assertEquals(outcome(INTERP, pi, b, 0), outcome(JIT, pj, b, 0), "budget " + b);
    }

    /** A small method limit splits small programs: loops, bpf-to-bpf calls and returns crossing chunks, every budget. */
    @Test
    void splitProgramsCrossChunksWithCallsLoopsAndBudget() throws VmFault {
        Asm a = new Asm().mov64(R6, 0).mov64(R7, 0);
        a.label("loop").mov64Reg(R1, R6).callLocal("f").alu64(AluOp.ADD, R7, R0);
        for (int i = 0; i < 60; i++) a.alu64Imm(AluOp.ADD, R7, i).alu32Imm(AluOp.XOR, R7, 0x55 + i).st(Size.W, R10, -4 - 4 * (i % 8), i);
        a.add64(R6, 1).jmpImm(JmpOp.JLT, R6, 5, "loop").mov64Reg(R0, R7).exit();
        a.label("f").mov64Reg(R0, R1);
        for (int i = 0; i < 60; i++) a.alu64Imm(AluOp.MUL, R0, 3).ldx(Size.W, R2, R10, -4 - 4 * (i % 8)).alu64(AluOp.ADD, R0, R2);
        a.exit();
        JitEngine small = JitEngine.withMethodLimit(1000);
        VmProgram pi = prog("split", a), pj = prog("split", a);
        Compilation.Compiled c = assertInstanceOf(Compilation.Compiled.class, small.compilation(pj));
        assertTrue(c.bytecodeSize() > 1000, "several methods: " + c.describe());
        String full = outcome(INTERP, pi, 1_000_000, 0);
        assertEquals(full, outcome(small, pj, 1_000_000, 0));
        int used = Integer.parseInt(full.substring(full.indexOf("insns=") + 6));
        for (int b = 1; b <= used + 1; b += 7)
            assertEquals(outcome(INTERP, pi, b, 0), outcome(small, pj, b, 0), "budget " + b);
    }

    /** bpf_loop callbacks in a split program: the callback enters a chunk in the middle. */
    @Test
    void splitProgramsRunCallbacks() throws VmFault {
        Asm a = new Asm().mov64(R6, 7).st(Size.DW, R10, -8, 0)
                .ldFunc(R2, "cb").mov64Reg(R3, R10).add64(R3, -8).mov64(R4, 0).mov64(R1, 10)
                .call(dev.ublkctl.bpf.vm.StandardHelpers.LOOP)
                .ldx(Size.DW, R1, R10, -8).alu64Imm(AluOp.MUL, R1, 1000).alu64(AluOp.ADD, R0, R1).alu64(AluOp.ADD, R0, R6);
        for (int i = 0; i < 80; i++) a.alu64Imm(AluOp.ADD, R0, 0).alu32Imm(AluOp.OR, R8, i);
        a.exit().label("cb").ldx(Size.DW, R3, R2, 0).alu64(AluOp.ADD, R3, R1).stx(Size.DW, R2, 0, R3);
        for (int i = 0; i < 80; i++) a.alu64Imm(AluOp.ADD, R9, i);
        a.mov64(R0, 0).exit();
        JitEngine small = JitEngine.withMethodLimit(1000);
        VmProgram pi = prog("splitcb", a), pj = prog("splitcb", a);
        assertInstanceOf(Compilation.Compiled.class, small.compilation(pj));
        String full = outcome(INTERP, pi, 1_000_000, 0);
        assertTrue(full.startsWith("r0=" + (45 * 1000 + 10 + 7)), full);
        assertEquals(full, outcome(small, pj, 1_000_000, 0));
    }

    /** Past what the JIT splits: still no failure, the interpreter runs it and the reason is recorded. */
    @Test
    void programBeyondTheJvmMethodLimitRunsInTheInterpreter() throws VmFault {
        Asm a = new Asm().mov64(R0, 0);
        for (int i = 0; i < 40_000; i++) a.alu64Imm(AluOp.ADD, R0, 1 + (i & 7)).alu32Imm(AluOp.XOR, R0, i);
        a.exit();
        VmProgram pj = prog("enormous", a), pi = prog("enormous", a);
        Compilation c = JitEngine.compile(pj);
        assertTrue(c.describe().startsWith("interpreter fallback: "), c.describe());
        assertInstanceOf(Compilation.Fallback.class, c, c.describe());
        System.out.println("enormous program: " + c.describe());
        assertEquals(outcome(INTERP, pi, 1_000_000, 0), outcome(JIT, pj, 1_000_000, 0));
    }
}
