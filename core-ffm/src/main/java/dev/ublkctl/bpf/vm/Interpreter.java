package dev.ublkctl.bpf.vm;

import static dev.ublkctl.bpf.vm.Uop.*;
import static dev.ublkctl.bpf.vm.VmContext.U16;
import static dev.ublkctl.bpf.vm.VmContext.U32;
import static dev.ublkctl.bpf.vm.VmContext.U64;
import static dev.ublkctl.bpf.vm.VmContext.U8;

import java.lang.invoke.VarHandle;

/**
 * The reference execution engine: a switch over predecoded {@link Uop}s with no allocation per
 * instruction. Semantics follow the kernel's interpreter ({@code kernel/bpf/core.c}):
 * unsigned div by zero gives 0, mod by zero leaves dst (32-bit forms zero-extend it), signed
 * {@code INT_MIN / -1} gives INT_MIN, shift counts are masked to the width, 32-bit results are
 * zero-extended into the 64-bit register. Every load and store is bounds-checked against its region.
 */
public final class Interpreter implements ExecutionEngine, VmContext.CallbackRunner {

    private static final long MASK32 = 0xffffffffL;

    @Override public String name() { return "interpreter"; }

    private static int dst(long insn) { return (int) (insn >>> 8) & 0xf; }
    private static int src(long insn) { return (int) (insn >>> 12) & 0xf; }
    private static int off(long insn) { return (short) (insn >>> 16); }
    private static int imm(long insn) { return (int) (insn >>> 32); }

    @Override
    public long run(VmProgram p, VmContext ctx, long r1, long r2, long r3, long r4, long r5) throws VmFault {
        int mark = ctx.begin(p);
        ctx.remaining = ctx.budget();
        ctx.callbacks = this;
        ctx.tailCalls = 0;
        try {
            for (;;) {
                try {
                    long r0 = exec(p, ctx, 0, 0, r1, r2, r3, r4, r5);
                    ctx.checkReleased(p);
                    return r0;
                } catch (TailCall t) {   // the target replaces the program: same context, budget and count
                    p = ctx.tailTarget();
                    r1 = ctx.tailContext();
                    r2 = r3 = r4 = r5 = 0;
                    ctx.retarget(p, mark);
                }
            }
        } finally {
            ctx.end(mark);
        }
    }

    /**
     * Runs {@code p} from its first instruction inside a run another engine began ({@link VmContext#beginRun}),
     * on the budget left: for a JIT whose tail call lands on a program it runs in the interpreter.
     */
    public long enter(VmProgram p, VmContext ctx, long r1, long r2, long r3, long r4, long r5) throws VmFault {
        return exec(p, ctx, 0, 0, r1, r2, r3, r4, r5);
    }

    /** Runs a callback (bpf_loop) as a new frame above {@code depth}; r6-r10 of the caller are kept. */
    @Override
    public long runCallback(VmProgram p, VmContext ctx, int pc, int depth, long r1, long r2, long r3, long r4, long r5) throws VmFault {
        long[] reg = ctx.regs;
        long s6 = reg[6], s7 = reg[7], s8 = reg[8], s9 = reg[9], s10 = reg[10];
        long r0 = exec(p, ctx, pc, depth, r1, r2, r3, r4, r5);
        reg[6] = s6; reg[7] = s7; reg[8] = s8; reg[9] = s9; reg[10] = s10;
        return r0;
    }

    /** The dispatch loop from {@code startPc} in frame {@code baseDepth}, until that frame exits. */
    private long exec(VmProgram p, VmContext ctx, int startPc, int baseDepth, long r1, long r2, long r3, long r4, long r5) throws VmFault {
        final long[] reg = ctx.regs;
        reg[0] = 0; reg[1] = r1; reg[2] = r2; reg[3] = r3; reg[4] = r4; reg[5] = r5;
        reg[6] = 0; reg[7] = 0; reg[8] = 0; reg[9] = 0;
        reg[10] = VmContext.stackPointer(baseDepth);
        return loop(p, ctx, startPc, baseDepth, baseDepth, ctx.remaining);
    }

    /**
     * Continues a run another engine started (a JIT handing over when its per-block budget count would
     * cross the limit): from {@code pc} in frame {@code depth} with r0..r10 in {@link VmContext#registers()},
     * the outer frames in {@link VmContext#frameReturns()}/{@link VmContext#frameSaves()} and
     * {@code budget} instructions left, until frame {@code baseDepth} exits. Counts and faults exactly.
     */
    public long resume(VmProgram p, VmContext ctx, int pc, int depth, int baseDepth, long budget) throws VmFault {
        return loop(p, ctx, pc, depth, baseDepth, budget);
    }

    private long loop(VmProgram p, VmContext ctx, int startPc, int startDepth, int baseDepth, long budget) throws VmFault {
        final long[] code = p.ops;
        final int[] uops = p.uops;
        final int[] targets = p.targets;
        final long[] reg = ctx.regs;
        final int[] retPc = ctx.retPc;
        final long[] saved = ctx.saved;
        int depth = startDepth;
        int pc = startPc;
        try {
            for (;;) {
                if (--budget < 0)
                    throw VmFault.of(VmFault.Kind.BUDGET, "instruction budget of " + ctx.budget() + " exhausted");
                final long insn = code[pc];
                switch ((int) insn & 0xff) {
                    // ---------------- ALU64
                    case ADD64_K: reg[dst(insn)] += imm(insn); break;
                    case ADD64_X: reg[dst(insn)] += reg[src(insn)]; break;
                    case SUB64_K: reg[dst(insn)] -= imm(insn); break;
                    case SUB64_X: reg[dst(insn)] -= reg[src(insn)]; break;
                    case MUL64_K: reg[dst(insn)] *= imm(insn); break;
                    case MUL64_X: reg[dst(insn)] *= reg[src(insn)]; break;
                    case DIV64_K: { long s = imm(insn); int d = dst(insn); reg[d] = s == 0 ? 0 : Long.divideUnsigned(reg[d], s); break; }
                    case DIV64_X: { long s = reg[src(insn)]; int d = dst(insn); reg[d] = s == 0 ? 0 : Long.divideUnsigned(reg[d], s); break; }
                    case SDIV64_K: { long s = imm(insn); int d = dst(insn); reg[d] = s == 0 ? 0 : reg[d] / s; break; }
                    case SDIV64_X: { long s = reg[src(insn)]; int d = dst(insn); reg[d] = s == 0 ? 0 : reg[d] / s; break; }
                    case OR64_K: reg[dst(insn)] |= imm(insn); break;
                    case OR64_X: reg[dst(insn)] |= reg[src(insn)]; break;
                    case AND64_K: reg[dst(insn)] &= imm(insn); break;
                    case AND64_X: reg[dst(insn)] &= reg[src(insn)]; break;
                    case LSH64_K: reg[dst(insn)] <<= imm(insn); break;
                    case LSH64_X: reg[dst(insn)] <<= reg[src(insn)]; break;
                    case RSH64_K: reg[dst(insn)] >>>= imm(insn); break;
                    case RSH64_X: reg[dst(insn)] >>>= reg[src(insn)]; break;
                    case NEG64: { int d = dst(insn); reg[d] = -reg[d]; break; }
                    case MOD64_K: { long s = imm(insn); int d = dst(insn); if (s != 0) reg[d] = Long.remainderUnsigned(reg[d], s); break; }
                    case MOD64_X: { long s = reg[src(insn)]; int d = dst(insn); if (s != 0) reg[d] = Long.remainderUnsigned(reg[d], s); break; }
                    case SMOD64_K: { long s = imm(insn); int d = dst(insn); if (s != 0) reg[d] = reg[d] % s; break; }
                    case SMOD64_X: { long s = reg[src(insn)]; int d = dst(insn); if (s != 0) reg[d] = reg[d] % s; break; }
                    case XOR64_K: reg[dst(insn)] ^= imm(insn); break;
                    case XOR64_X: reg[dst(insn)] ^= reg[src(insn)]; break;
                    case MOV64_K: reg[dst(insn)] = imm(insn); break;
                    case MOV64_X: reg[dst(insn)] = reg[src(insn)]; break;
                    case MOVSX64_8: reg[dst(insn)] = (byte) reg[src(insn)]; break;
                    case MOVSX64_16: reg[dst(insn)] = (short) reg[src(insn)]; break;
                    case MOVSX64_32: reg[dst(insn)] = (int) reg[src(insn)]; break;
                    case ARSH64_K: reg[dst(insn)] >>= imm(insn); break;
                    case ARSH64_X: reg[dst(insn)] >>= reg[src(insn)]; break;
                    // ---------------- ALU32 (results zero-extended)
                    case ADD32_K: { int d = dst(insn); reg[d] = ((int) reg[d] + imm(insn)) & MASK32; break; }
                    case ADD32_X: { int d = dst(insn); reg[d] = ((int) reg[d] + (int) reg[src(insn)]) & MASK32; break; }
                    case SUB32_K: { int d = dst(insn); reg[d] = ((int) reg[d] - imm(insn)) & MASK32; break; }
                    case SUB32_X: { int d = dst(insn); reg[d] = ((int) reg[d] - (int) reg[src(insn)]) & MASK32; break; }
                    case MUL32_K: { int d = dst(insn); reg[d] = ((int) reg[d] * imm(insn)) & MASK32; break; }
                    case MUL32_X: { int d = dst(insn); reg[d] = ((int) reg[d] * (int) reg[src(insn)]) & MASK32; break; }
                    case DIV32_K: { int s = imm(insn); int d = dst(insn); reg[d] = s == 0 ? 0 : Integer.divideUnsigned((int) reg[d], s) & MASK32; break; }
                    case DIV32_X: { int s = (int) reg[src(insn)]; int d = dst(insn); reg[d] = s == 0 ? 0 : Integer.divideUnsigned((int) reg[d], s) & MASK32; break; }
                    case SDIV32_K: { int s = imm(insn); int d = dst(insn); reg[d] = s == 0 ? 0 : ((int) reg[d] / s) & MASK32; break; }
                    case SDIV32_X: { int s = (int) reg[src(insn)]; int d = dst(insn); reg[d] = s == 0 ? 0 : ((int) reg[d] / s) & MASK32; break; }
                    case OR32_K: { int d = dst(insn); reg[d] = ((int) reg[d] | imm(insn)) & MASK32; break; }
                    case OR32_X: { int d = dst(insn); reg[d] = ((int) reg[d] | (int) reg[src(insn)]) & MASK32; break; }
                    case AND32_K: { int d = dst(insn); reg[d] = ((int) reg[d] & imm(insn)) & MASK32; break; }
                    case AND32_X: { int d = dst(insn); reg[d] = ((int) reg[d] & (int) reg[src(insn)]) & MASK32; break; }
                    case LSH32_K: { int d = dst(insn); reg[d] = ((int) reg[d] << imm(insn)) & MASK32; break; }
                    case LSH32_X: { int d = dst(insn); reg[d] = ((int) reg[d] << (int) reg[src(insn)]) & MASK32; break; }
                    case RSH32_K: { int d = dst(insn); reg[d] = ((int) reg[d] >>> imm(insn)) & MASK32; break; }
                    case RSH32_X: { int d = dst(insn); reg[d] = ((int) reg[d] >>> (int) reg[src(insn)]) & MASK32; break; }
                    case NEG32: { int d = dst(insn); reg[d] = (-(int) reg[d]) & MASK32; break; }
                    case MOD32_K: { int s = imm(insn); int d = dst(insn); reg[d] = (s == 0 ? (int) reg[d] : Integer.remainderUnsigned((int) reg[d], s)) & MASK32; break; }
                    case MOD32_X: { int s = (int) reg[src(insn)]; int d = dst(insn); reg[d] = (s == 0 ? (int) reg[d] : Integer.remainderUnsigned((int) reg[d], s)) & MASK32; break; }
                    case SMOD32_K: { int s = imm(insn); int d = dst(insn); reg[d] = (s == 0 ? (int) reg[d] : (int) reg[d] % s) & MASK32; break; }
                    case SMOD32_X: { int s = (int) reg[src(insn)]; int d = dst(insn); reg[d] = (s == 0 ? (int) reg[d] : (int) reg[d] % s) & MASK32; break; }
                    case XOR32_K: { int d = dst(insn); reg[d] = ((int) reg[d] ^ imm(insn)) & MASK32; break; }
                    case XOR32_X: { int d = dst(insn); reg[d] = ((int) reg[d] ^ (int) reg[src(insn)]) & MASK32; break; }
                    case MOV32_K: reg[dst(insn)] = imm(insn) & MASK32; break;
                    case MOV32_X: reg[dst(insn)] = reg[src(insn)] & MASK32; break;
                    case MOVSX32_8: reg[dst(insn)] = ((int) (byte) reg[src(insn)]) & MASK32; break;
                    case MOVSX32_16: reg[dst(insn)] = ((int) (short) reg[src(insn)]) & MASK32; break;
                    case ARSH32_K: { int d = dst(insn); reg[d] = ((int) reg[d] >> imm(insn)) & MASK32; break; }
                    case ARSH32_X: { int d = dst(insn); reg[d] = ((int) reg[d] >> (int) reg[src(insn)]) & MASK32; break; }
                    // ---------------- byte swaps
                    case LE16: reg[dst(insn)] &= 0xffff; break;
                    case LE32: reg[dst(insn)] &= MASK32; break;
                    case LE64: break;
                    case BE16: { int d = dst(insn); reg[d] = Short.reverseBytes((short) reg[d]) & 0xffffL; break; }
                    case BE32: { int d = dst(insn); reg[d] = Integer.reverseBytes((int) reg[d]) & MASK32; break; }
                    case BE64: { int d = dst(insn); reg[d] = Long.reverseBytes(reg[d]); break; }
                    // ---------------- jumps
                    case JEQ_K: pc = reg[dst(insn)] == (long) imm(insn) ? targets[pc] : pc + 1; continue;
                    case JEQ_X: pc = reg[dst(insn)] == reg[src(insn)] ? targets[pc] : pc + 1; continue;
                    case JEQ32_K: pc = (int) reg[dst(insn)] == imm(insn) ? targets[pc] : pc + 1; continue;
                    case JEQ32_X: pc = (int) reg[dst(insn)] == (int) reg[src(insn)] ? targets[pc] : pc + 1; continue;
                    case JGT_K: pc = Long.compareUnsigned(reg[dst(insn)], (long) imm(insn)) > 0 ? targets[pc] : pc + 1; continue;
                    case JGT_X: pc = Long.compareUnsigned(reg[dst(insn)], reg[src(insn)]) > 0 ? targets[pc] : pc + 1; continue;
                    case JGT32_K: pc = Integer.compareUnsigned((int) reg[dst(insn)], imm(insn)) > 0 ? targets[pc] : pc + 1; continue;
                    case JGT32_X: pc = Integer.compareUnsigned((int) reg[dst(insn)], (int) reg[src(insn)]) > 0 ? targets[pc] : pc + 1; continue;
                    case JGE_K: pc = Long.compareUnsigned(reg[dst(insn)], (long) imm(insn)) >= 0 ? targets[pc] : pc + 1; continue;
                    case JGE_X: pc = Long.compareUnsigned(reg[dst(insn)], reg[src(insn)]) >= 0 ? targets[pc] : pc + 1; continue;
                    case JGE32_K: pc = Integer.compareUnsigned((int) reg[dst(insn)], imm(insn)) >= 0 ? targets[pc] : pc + 1; continue;
                    case JGE32_X: pc = Integer.compareUnsigned((int) reg[dst(insn)], (int) reg[src(insn)]) >= 0 ? targets[pc] : pc + 1; continue;
                    case JSET_K: pc = (reg[dst(insn)] & (long) imm(insn)) != 0 ? targets[pc] : pc + 1; continue;
                    case JSET_X: pc = (reg[dst(insn)] & reg[src(insn)]) != 0 ? targets[pc] : pc + 1; continue;
                    case JSET32_K: pc = ((int) reg[dst(insn)] & imm(insn)) != 0 ? targets[pc] : pc + 1; continue;
                    case JSET32_X: pc = ((int) reg[dst(insn)] & (int) reg[src(insn)]) != 0 ? targets[pc] : pc + 1; continue;
                    case JNE_K: pc = reg[dst(insn)] != (long) imm(insn) ? targets[pc] : pc + 1; continue;
                    case JNE_X: pc = reg[dst(insn)] != reg[src(insn)] ? targets[pc] : pc + 1; continue;
                    case JNE32_K: pc = (int) reg[dst(insn)] != imm(insn) ? targets[pc] : pc + 1; continue;
                    case JNE32_X: pc = (int) reg[dst(insn)] != (int) reg[src(insn)] ? targets[pc] : pc + 1; continue;
                    case JSGT_K: pc = reg[dst(insn)] > (long) imm(insn) ? targets[pc] : pc + 1; continue;
                    case JSGT_X: pc = reg[dst(insn)] > reg[src(insn)] ? targets[pc] : pc + 1; continue;
                    case JSGT32_K: pc = (int) reg[dst(insn)] > imm(insn) ? targets[pc] : pc + 1; continue;
                    case JSGT32_X: pc = (int) reg[dst(insn)] > (int) reg[src(insn)] ? targets[pc] : pc + 1; continue;
                    case JSGE_K: pc = reg[dst(insn)] >= (long) imm(insn) ? targets[pc] : pc + 1; continue;
                    case JSGE_X: pc = reg[dst(insn)] >= reg[src(insn)] ? targets[pc] : pc + 1; continue;
                    case JSGE32_K: pc = (int) reg[dst(insn)] >= imm(insn) ? targets[pc] : pc + 1; continue;
                    case JSGE32_X: pc = (int) reg[dst(insn)] >= (int) reg[src(insn)] ? targets[pc] : pc + 1; continue;
                    case JLT_K: pc = Long.compareUnsigned(reg[dst(insn)], (long) imm(insn)) < 0 ? targets[pc] : pc + 1; continue;
                    case JLT_X: pc = Long.compareUnsigned(reg[dst(insn)], reg[src(insn)]) < 0 ? targets[pc] : pc + 1; continue;
                    case JLT32_K: pc = Integer.compareUnsigned((int) reg[dst(insn)], imm(insn)) < 0 ? targets[pc] : pc + 1; continue;
                    case JLT32_X: pc = Integer.compareUnsigned((int) reg[dst(insn)], (int) reg[src(insn)]) < 0 ? targets[pc] : pc + 1; continue;
                    case JLE_K: pc = Long.compareUnsigned(reg[dst(insn)], (long) imm(insn)) <= 0 ? targets[pc] : pc + 1; continue;
                    case JLE_X: pc = Long.compareUnsigned(reg[dst(insn)], reg[src(insn)]) <= 0 ? targets[pc] : pc + 1; continue;
                    case JLE32_K: pc = Integer.compareUnsigned((int) reg[dst(insn)], imm(insn)) <= 0 ? targets[pc] : pc + 1; continue;
                    case JLE32_X: pc = Integer.compareUnsigned((int) reg[dst(insn)], (int) reg[src(insn)]) <= 0 ? targets[pc] : pc + 1; continue;
                    case JSLT_K: pc = reg[dst(insn)] < (long) imm(insn) ? targets[pc] : pc + 1; continue;
                    case JSLT_X: pc = reg[dst(insn)] < reg[src(insn)] ? targets[pc] : pc + 1; continue;
                    case JSLT32_K: pc = (int) reg[dst(insn)] < imm(insn) ? targets[pc] : pc + 1; continue;
                    case JSLT32_X: pc = (int) reg[dst(insn)] < (int) reg[src(insn)] ? targets[pc] : pc + 1; continue;
                    case JSLE_K: pc = reg[dst(insn)] <= (long) imm(insn) ? targets[pc] : pc + 1; continue;
                    case JSLE_X: pc = reg[dst(insn)] <= reg[src(insn)] ? targets[pc] : pc + 1; continue;
                    case JSLE32_K: pc = (int) reg[dst(insn)] <= imm(insn) ? targets[pc] : pc + 1; continue;
                    case JSLE32_X: pc = (int) reg[dst(insn)] <= (int) reg[src(insn)] ? targets[pc] : pc + 1; continue;
                    case JA: pc = targets[pc]; continue;
                    case CALL_NATIVE:
                        ctx.remaining = budget;     // a helper may run callbacks (bpf_loop) on the same budget
                        ctx.depth = depth;
                        reg[0] = p.natives[pc].call(ctx, reg[1], reg[2], reg[3], reg[4], reg[5]);
                        budget = ctx.remaining;
                        break;
                    case CALL_LOCAL: {
                        if (depth == VmContext.MAX_FRAMES - 1)
                            throw VmFault.of(VmFault.Kind.CALL_DEPTH, "bpf-to-bpf call depth exceeds " + VmContext.MAX_FRAMES + " frames");
                        int sb = depth * 5;
                        saved[sb] = reg[6]; saved[sb + 1] = reg[7]; saved[sb + 2] = reg[8]; saved[sb + 3] = reg[9];
                        retPc[depth] = pc + 1;
                        depth++;
                        reg[10] = VmContext.stackPointer(depth);
                        pc = targets[pc];
                        continue;
                    }
                    case EXIT: {
                        if (depth == baseDepth) {
                            ctx.remaining = budget;
                            return reg[0];
                        }
                        depth--;
                        int sb = depth * 5;
                        reg[6] = saved[sb]; reg[7] = saved[sb + 1]; reg[8] = saved[sb + 2]; reg[9] = saved[sb + 3];
                        reg[10] = VmContext.stackPointer(depth);
                        pc = retPc[depth];
                        continue;
                    }
                    case LDDW: reg[dst(insn)] = p.imm64[pc]; pc += 2; continue;
                    // ---------------- loads
                    case LDX_B: { long a = reg[src(insn)] + off(insn); int r = ctx.check(a, 1, false); reg[dst(insn)] = ctx.seg[r].get(U8, ctx.base[r] + (int) a) & 0xffL; break; }
                    case LDX_H: { long a = reg[src(insn)] + off(insn); int r = ctx.check(a, 2, false); reg[dst(insn)] = ctx.seg[r].get(U16, ctx.base[r] + (int) a) & 0xffffL; break; }
                    case LDX_W: { long a = reg[src(insn)] + off(insn); int r = ctx.check(a, 4, false); reg[dst(insn)] = ctx.seg[r].get(U32, ctx.base[r] + (int) a) & MASK32; break; }
                    case LDX_DW: { long a = reg[src(insn)] + off(insn); int r = ctx.check(a, 8, false); reg[dst(insn)] = ctx.seg[r].get(U64, ctx.base[r] + (int) a); break; }
                    case LDXSX_B: { long a = reg[src(insn)] + off(insn); int r = ctx.check(a, 1, false); reg[dst(insn)] = ctx.seg[r].get(U8, ctx.base[r] + (int) a); break; }
                    case LDXSX_H: { long a = reg[src(insn)] + off(insn); int r = ctx.check(a, 2, false); reg[dst(insn)] = ctx.seg[r].get(U16, ctx.base[r] + (int) a); break; }
                    case LDXSX_W: { long a = reg[src(insn)] + off(insn); int r = ctx.check(a, 4, false); reg[dst(insn)] = ctx.seg[r].get(U32, ctx.base[r] + (int) a); break; }
                    // ---------------- stores
                    case ST_B: { long a = reg[dst(insn)] + off(insn); int r = ctx.check(a, 1, true); ctx.seg[r].set(U8, ctx.base[r] + (int) a, (byte) imm(insn)); break; }
                    case ST_H: { long a = reg[dst(insn)] + off(insn); int r = ctx.check(a, 2, true); ctx.seg[r].set(U16, ctx.base[r] + (int) a, (short) imm(insn)); break; }
                    case ST_W: { long a = reg[dst(insn)] + off(insn); int r = ctx.check(a, 4, true); ctx.seg[r].set(U32, ctx.base[r] + (int) a, imm(insn)); break; }
                    case ST_DW: { long a = reg[dst(insn)] + off(insn); int r = ctx.check(a, 8, true); ctx.seg[r].set(U64, ctx.base[r] + (int) a, (long) imm(insn)); break; }
                    case STX_B: { long a = reg[dst(insn)] + off(insn); int r = ctx.check(a, 1, true); ctx.seg[r].set(U8, ctx.base[r] + (int) a, (byte) reg[src(insn)]); break; }
                    case STX_H: { long a = reg[dst(insn)] + off(insn); int r = ctx.check(a, 2, true); ctx.seg[r].set(U16, ctx.base[r] + (int) a, (short) reg[src(insn)]); break; }
                    case STX_W: { long a = reg[dst(insn)] + off(insn); int r = ctx.check(a, 4, true); ctx.seg[r].set(U32, ctx.base[r] + (int) a, (int) reg[src(insn)]); break; }
                    case STX_DW: { long a = reg[dst(insn)] + off(insn); int r = ctx.check(a, 8, true); ctx.seg[r].set(U64, ctx.base[r] + (int) a, reg[src(insn)]); break; }
                    // ---------------- atomics
                    case A32_ADD, A32_OR, A32_AND, A32_XOR, A32_FADD, A32_FOR, A32_FAND, A32_FXOR, A32_XCHG, A32_CMPXCHG:
                        atomic32(ctx, reg, insn, ((int) insn & 0xff) - A32_ADD);
                        break;
                    case A64_ADD, A64_OR, A64_AND, A64_XOR, A64_FADD, A64_FOR, A64_FAND, A64_FXOR, A64_XCHG, A64_CMPXCHG:
                        atomic64(ctx, reg, insn, ((int) insn & 0xff) - A64_ADD);
                        break;
                    case LDACQ_B, LDACQ_H, LDACQ_W, LDACQ_DW: {
                        int size = 1 << (((int) insn & 0xff) - LDACQ_B);
                        long v = ctx.load(reg[src(insn)] + off(insn), size);
                        VarHandle.acquireFence();
                        reg[dst(insn)] = v;
                        break;
                    }
                    case STREL_B, STREL_H, STREL_W, STREL_DW: {
                        int size = 1 << (((int) insn & 0xff) - STREL_B);
                        VarHandle.releaseFence();
                        ctx.store(reg[dst(insn)] + off(insn), size, reg[src(insn)]);
                        break;
                    }
                    case END_OF_PROGRAM:
                        throw VmFault.of(VmFault.Kind.INVALID_INSTRUCTION, "execution ran past the last instruction");
                    default:
                        throw VmFault.of(VmFault.Kind.INVALID_INSTRUCTION, "unexpected operation " + uops[pc]);
                }
                pc++;
            }
        } catch (VmFault f) {
            ctx.remaining = Math.max(budget, 0);
            throw f.at(p.name, pc, p.sourceLines.lineFor(pc));
        } catch (RuntimeException | StackOverflowError e) {
            String what = pc >= 0 && pc < uops.length && uops[pc] == CALL_NATIVE
                    ? p.nativeNames[pc] + " failed: " + e : "internal error: " + e;
            throw VmFault.wrap(uops[pc] == CALL_NATIVE ? VmFault.Kind.HELPER : VmFault.Kind.INTERNAL, what, e)
                    .at(p.name, pc, p.sourceLines.lineFor(pc));
        }
    }

    // op: 0 add, 1 or, 2 and, 3 xor, 4-7 the same with fetch, 8 xchg, 9 cmpxchg (see VmContext.atomic)
    private static void atomic32(VmContext ctx, long[] reg, long insn, int op) throws VmFault {
        int sr = src(insn);
        long old = ctx.atomic(reg[dst(insn)] + off(insn), 4, op, reg[sr], reg[0]);
        if (op == 9) reg[0] = old;
        else if (op >= 4) reg[sr] = old;
    }

    private static void atomic64(VmContext ctx, long[] reg, long insn, int op) throws VmFault {
        int sr = src(insn);
        long old = ctx.atomic(reg[dst(insn)] + off(insn), 8, op, reg[sr], reg[0]);
        if (op == 9) reg[0] = old;
        else if (op >= 4) reg[sr] = old;
    }
}
