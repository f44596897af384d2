package dev.ublkctl.bpf.vm;

/** A BPF helper (called with {@code call id}): arguments r1..r5, result r0. */
@FunctionalInterface
public interface Helper {
    long call(VmContext ctx, long r1, long r2, long r3, long r4, long r5) throws VmFault;
}
