package dev.ublkctl.bpf.jit;

import dev.ublkctl.bpf.vm.ExecutionEngine;
import dev.ublkctl.bpf.vm.Interpreter;
import dev.ublkctl.bpf.vm.TailCall;
import dev.ublkctl.bpf.vm.VmContext;
import dev.ublkctl.bpf.vm.VmFault;
import dev.ublkctl.bpf.vm.VmProgram;

/**
 * Runs programs as JVM bytecode: each program is compiled once ({@link #compile}, kept on the program)
 * into a hidden class, which HotSpot then compiles to machine code. Results, memory effects, budget and
 * faults are the {@link Interpreter}'s. A program that does not fit one JVM method HotSpot compiles runs
 * in the interpreter, with the reason in its {@link Compilation.Fallback}. Stateless and thread-safe.
 */
public final class JitEngine implements ExecutionEngine, VmContext.CallbackRunner {
    private static final Interpreter INTERPRETER = JitRuntime.INTERPRETER;

    /** Largest method (bytes of bytecode) this engine generates; bigger programs are split into several. */
    private final int methodLimit;

    public JitEngine() { this(JitCompiler.HUGE_METHOD_LIMIT); }

    private JitEngine(int methodLimit) { this.methodLimit = methodLimit; }

    /**
     * An engine that splits programs into methods of at most {@code bytes} of bytecode (tests use a small
     * limit to split small programs). The first engine to compile a program decides its class.
     */
    public static JitEngine withMethodLimit(int bytes) {
        if (bytes < 1000) throw new IllegalArgumentException("method limit " + bytes + " is below 1000 bytes");
        return new JitEngine(bytes);
    }

    @Override public String name() { return "jit"; }

    /** Compiles {@code p} (once: later calls return the same result), or says why it falls back. */
    public static Compilation compile(VmProgram p) {
        return (Compilation) p.compiled(JitCompiler::compile);
    }

    /** {@link #compile} with this engine's method limit. */
    public Compilation compilation(VmProgram p) {
        return (Compilation) p.compiled(q -> JitCompiler.compile(q, methodLimit));
    }

    /** The compilation of {@code p} if it was compiled already, else null. */
    public static Compilation compilationIfPresent(VmProgram p) {
        return (Compilation) p.compiledIfPresent();
    }

    @Override public void prepare(VmProgram program) { compilation(program); }

    private JitCode code(VmProgram p) {
        Object c = p.compiledIfPresent();
        if (c == null) c = compilation(p);
        return c instanceof Compilation.Compiled k ? k.code() : null;
    }

    @Override
    public long run(VmProgram p, VmContext ctx, long r1, long r2, long r3, long r4, long r5) throws VmFault {
        JitCode code = code(p);
        if (code == null) return INTERPRETER.run(p, ctx, r1, r2, r3, r4, r5);
        int mark = ctx.beginRun(p, this);
        try {
            for (;;) {
                try {
                    long r0 = code != null ? code.exec(ctx, 0, 0, r1, r2, r3, r4, r5) : INTERPRETER.enter(p, ctx, r1, r2, r3, r4, r5);
                    ctx.checkReleased(p);
                    return r0;
                } catch (TailCall t) {   // as the interpreter: the target replaces the program on the same budget
                    p = ctx.tailTarget();
                    r1 = ctx.tailContext();
                    r2 = r3 = r4 = r5 = 0;
                    ctx.retarget(p, mark);
                    code = code(p);
                }
            }
        } finally {
            ctx.endRun(mark);
        }
    }

    /** A callback (bpf_loop) as a new frame; r6-r10 of an interpreter frame below are kept, as the interpreter keeps them. */
    @Override
    public long runCallback(VmProgram p, VmContext ctx, int pc, int depth, long r1, long r2, long r3, long r4, long r5) throws VmFault {
        JitCode code = code(p);
        if (code == null) return INTERPRETER.runCallback(p, ctx, pc, depth, r1, r2, r3, r4, r5);
        long[] reg = ctx.registers();
        long s6 = reg[6], s7 = reg[7], s8 = reg[8], s9 = reg[9], s10 = reg[10];
        long r0 = code.exec(ctx, pc, depth, r1, r2, r3, r4, r5);
        reg[6] = s6; reg[7] = s7; reg[8] = s8; reg[9] = s9; reg[10] = s10;
        return r0;
    }
}
