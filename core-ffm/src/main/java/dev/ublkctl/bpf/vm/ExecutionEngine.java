package dev.ublkctl.bpf.vm;

import java.lang.foreign.MemorySegment;

/**
 * Runs a {@link VmProgram}. The {@link Interpreter} is the reference; other engines (a JIT) must give the
 * same r0, memory effects and faults. Engines are stateless and thread-safe; all per-run state lives in
 * the {@link VmContext}, one per thread.
 */
public interface ExecutionEngine {

    String name();

    /**
     * Does what this engine needs once per program before its first run (a JIT compiles it), so the
     * cost stays off the I/O path. Optional: {@link #run} does it on first use otherwise.
     */
    default void prepare(VmProgram program) {}

    /**
     * Runs {@code program} from its first instruction with r1..r5 as given (r0, r6-r9 zero, r10 the frame-0
     * stack top) and returns r0. Regions the program or its kfuncs create are dropped at the end.
     *
     * @throws VmFault for anything the program does wrong, naming program, instruction and address
     */
    long run(VmProgram program, VmContext ctx, long r1, long r2, long r3, long r4, long r5) throws VmFault;

    /** Runs with {@code r1} pointing at {@code context} (ctx of socket filters, XDP, syscall programs). */
    default long runWithContext(VmProgram program, VmContext ctx, MemorySegment context, boolean writable) throws VmFault {
        int mark = ctx.mark();
        try {
            long addr = ctx.addRegion(context, writable, "context");
            return run(program, ctx, addr, context.byteSize(), 0, 0, 0);
        } finally {
            ctx.release(mark);
        }
    }

    /**
     * Enters a struct_ops program as the kernel does: {@code r1} points to a read-only array of the u64
     * arguments (pointers among them are VM addresses, e.g. from {@link VmContext#addRegion}).
     */
    default long runStructOps(VmProgram program, VmContext ctx, long... args) throws VmFault {
        long r1 = ctx.setArgs(args);
        return run(program, ctx, r1, 0, 0, 0, 0);
    }
}
