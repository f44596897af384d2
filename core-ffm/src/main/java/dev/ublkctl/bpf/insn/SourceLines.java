package dev.ublkctl.bpf.insn;

/** Source text for instructions (from BTF line info); lets listings and faults show C lines. */
@FunctionalInterface
public interface SourceLines {
    /** The source line for the instruction at slot {@code insnIndex}, or null if there is none. */
    String lineFor(int insnIndex);

    SourceLines NONE = i -> null;
}
