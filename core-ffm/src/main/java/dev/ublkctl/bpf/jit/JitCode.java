package dev.ublkctl.bpf.jit;

import dev.ublkctl.bpf.vm.VmContext;
import dev.ublkctl.bpf.vm.VmFault;

/** What a generated class implements: one program, entered at its first instruction or at a callback. */
public interface JitCode {
    /**
     * Runs from {@code startPc} (0 or a function start) as frame {@code baseDepth} until that frame exits;
     * r0 and r6-r9 start at 0. Uses and updates the run's budget in {@code ctx}.
     */
    long exec(VmContext ctx, int startPc, int baseDepth, long r1, long r2, long r3, long r4, long r5) throws VmFault;
}
