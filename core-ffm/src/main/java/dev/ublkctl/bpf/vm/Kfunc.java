package dev.ublkctl.bpf.vm;

/**
 * A kfunc (called by name): arguments r1..r5, result r0. {@code ctx} gives memory access
 * ({@link VmContext#load}, {@link VmContext#segment}, {@link VmContext#addRegion} to hand objects to
 * the program), the calling program ({@link VmContext#program()}) and its cpu. Throw
 * {@link VmFault#helper(String)} to stop the program with a fault.
 */
@FunctionalInterface
public interface Kfunc {
    long call(VmContext ctx, long r1, long r2, long r3, long r4, long r5) throws VmFault;
}
