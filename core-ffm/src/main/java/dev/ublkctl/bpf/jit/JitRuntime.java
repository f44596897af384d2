package dev.ublkctl.bpf.jit;

import dev.ublkctl.bpf.vm.Interpreter;
import dev.ublkctl.bpf.vm.Uop;
import dev.ublkctl.bpf.vm.VmContext;
import dev.ublkctl.bpf.vm.VmFault;
import dev.ublkctl.bpf.vm.VmProgram;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Static support the generated classes call: stack accesses the compiler proved in range, fault
 * placement, and the hand-over to the interpreter when a block would cross the budget. Small methods,
 * so C2 inlines them into the program's code.
 */
final class JitRuntime {
    private JitRuntime() {}

    static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static final Interpreter INTERPRETER = new Interpreter();

    // Stack accesses at r10 + a constant the compiler proved inside the frame's 512 bytes: the
    // interpreter's check would always pass, so only the segment's own bounds check remains.
    static long stkU8(MemorySegment s, long o) { return s.get(U8, o) & 0xffL; }
    static long stkU16(MemorySegment s, long o) { return s.get(U16, o) & 0xffffL; }
    static long stkU32(MemorySegment s, long o) { return s.get(U32, o) & 0xffffffffL; }
    static long stkU64(MemorySegment s, long o) { return s.get(U64, o); }
    static long stkS8(MemorySegment s, long o) { return s.get(U8, o); }
    static long stkS16(MemorySegment s, long o) { return s.get(U16, o); }
    static long stkS32(MemorySegment s, long o) { return s.get(U32, o); }
    static void stk8(MemorySegment s, long o, long v) { s.set(U8, o, (byte) v); }
    static void stk16(MemorySegment s, long o, long v) { s.set(U16, o, (short) v); }
    static void stk32(MemorySegment s, long o, long v) { s.set(U32, o, (int) v); }
    static void stk64(MemorySegment s, long o, long v) { s.set(U64, o, v); }

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
