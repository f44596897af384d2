package dev.ublkctl.bpf.jit;

import dev.ublkctl.bpf.vm.Interpreter;
import dev.ublkctl.bpf.vm.Uop;
import dev.ublkctl.bpf.vm.VmContext;
import dev.ublkctl.bpf.vm.VmFault;
import dev.ublkctl.bpf.vm.VmProgram;


/**
 * Static support the generated classes call: stack accesses the compiler proved in range, fault
 * placement, and the hand-over to the interpreter when a block would cross the budget. Small methods,
 * so C2 inlines them into the program's code.
 */
final class JitRuntime {
    private JitRuntime() {}

    static final Interpreter INTERPRETER = new Interpreter();

    // Stack accesses at r10 + a constant the compiler proved inside the frame's 512 bytes: the
    // interpreter's check would always pass. They go straight to the words behind the stack segment
    // (VmContext.stackWords), little-endian as on the host (the compiler checks the byte order).

    /** {@code size} (1, 2, 4, 8) bytes at byte {@code o} of the stack, zero-extended. */
    static long stkLoad(long[] a, int o, int size) {
        int i = o >>> 3, sh = (o & 7) << 3;
        long v = a[i] >>> sh;
        if ((o & 7) + size > 8) v |= a[i + 1] << (64 - sh);   // straddles two words (sh > 0 here)
        return size == 8 ? v : v & ((1L << (size << 3)) - 1);
    }

    static long stkLoadSigned(long[] a, int o, int size) {
        int b = 64 - (size << 3);
        return (stkLoad(a, o, size) << b) >> b;
    }

    static void stkStore(long[] a, int o, int size, long v) {
        int i = o >>> 3, sh = (o & 7) << 3;
        long m = size == 8 ? -1L : (1L << (size << 3)) - 1;
        v &= m;
        a[i] = (a[i] & ~(m << sh)) | (v << sh);
        if ((o & 7) + size > 8) {
            int hs = 64 - sh;
            a[i + 1] = (a[i + 1] & ~(m >>> hs)) | (v >>> hs);
        }
    }

    static VmFault callDepth() {
        return VmFault.of(VmFault.Kind.CALL_DEPTH, "bpf-to-bpf call depth exceeds " + VmContext.MAX_FRAMES + " frames");
    }

    static VmFault ranOffTheEnd() {
        return VmFault.of(VmFault.Kind.INVALID_INSTRUCTION, "execution ran past the last instruction");
    }

    /**
     * A fault at {@code pc}: placed as the interpreter places it, and the budget left as the interpreter
     * leaves it (the block was charged whole; {@code refund[pc]} instructions after {@code pc} never ran).
     */
    static VmFault placeFault(VmFault f, VmContext ctx, VmProgram p, int pc, long budget, int[] refund) {
        ctx.setRemainingBudget(Math.max(budget + refund[pc], 0));
        return f.at(p.name(), pc, p.sourceLines().lineFor(pc));
    }

    /** A helper's exception or an internal error at {@code pc}, as the interpreter reports it. */
    static VmFault wrapThrowable(Throwable e, VmProgram p, int pc) {
        boolean call = pc >= 0 && pc <= p.length() && p.uop(pc) == Uop.CALL_NATIVE;
        String what = call ? p.nativeName(pc) + " failed: " + e : "internal error: " + e;
        return VmFault.wrap(call ? VmFault.Kind.HELPER : VmFault.Kind.INTERNAL, what, e)
                .at(p.name(), pc, p.sourceLines().lineFor(pc));
    }

    /** The int part of a budget the generated code counts down (the rest stays in a long beside it). */
    static int intBudget(long remaining) { return (int) Math.min(remaining, Integer.MAX_VALUE); }

    /**
     * The budget may not cover the longest path from checkpoint {@code pc}: the interpreter runs on from
     * there, counting exactly, with the registers the generated code stored in {@code ctx.registers()}.
     */
    static long resume(VmProgram p, VmContext ctx, int pc, int depth, int baseDepth, long budget) throws VmFault {
        return INTERPRETER.resume(p, ctx, pc, depth, baseDepth, budget);
    }
}
