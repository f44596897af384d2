package dev.ublkctl.bpf.vm;

/**
 * A program failed: at preparation (invalid instruction, unknown helper/kfunc, bad jump) or while
 * running (out-of-bounds access, budget exhausted, call depth, a helper refusing its arguments).
 * Carries the program name, the instruction (slot) index, the faulting address when there is one,
 * and the C source line when the program has line info.
 */
public final class VmFault extends Exception {

    public enum Kind { PREPARE, MEMORY, BUDGET, CALL_DEPTH, HELPER, INVALID_INSTRUCTION, INTERNAL }

    private final Kind kind;
    private final String program;
    private final int insnIndex;
    private final long address;
    private final boolean hasAddress;
    private final String reason;
    private final String sourceLine;

    private VmFault(Kind kind, String program, int insnIndex, long address, boolean hasAddress, String reason,
                    String sourceLine, Throwable cause) {
        super(format(kind, program, insnIndex, address, hasAddress, reason, sourceLine), cause, false, cause != null);
        this.kind = kind;
        this.program = program;
        this.insnIndex = insnIndex;
        this.address = address;
        this.hasAddress = hasAddress;
        this.reason = reason;
        this.sourceLine = sourceLine;
    }

    /** A fault not yet placed at an instruction; the engine adds program and index. */
    public static VmFault of(Kind kind, String reason) {
        return new VmFault(kind, null, -1, 0, false, reason, null, null);
    }

    public static VmFault memory(long address, String reason) {
        return new VmFault(Kind.MEMORY, null, -1, address, true, reason, null, null);
    }

    /** For helper and kfunc implementations: refuse the call with a reason. */
    public static VmFault helper(String reason) { return of(Kind.HELPER, reason); }

    /** A fault caused by an exception (engines: a helper that threw, an internal error). */
    public static VmFault wrap(Kind kind, String reason, Throwable cause) {
        return new VmFault(kind, null, -1, 0, false, reason, null, cause);
    }

    /** This fault placed at instruction {@code index} of {@code program}; unchanged if already placed. */
    public VmFault at(String programName, int index, String line) {
        if (program != null) return this;
        return new VmFault(kind, programName, index, address, hasAddress, reason, line, getCause());
    }

    public Kind kind() { return kind; }
    public String program() { return program; }
    /** Slot index of the faulting instruction, or -1 if not known. */
    public int insnIndex() { return insnIndex; }
    public boolean hasAddress() { return hasAddress; }
    public long address() { return address; }
    public String reason() { return reason; }
    /** The C source line of the faulting instruction, or null. */
    public String sourceLine() { return sourceLine; }

    private static String format(Kind kind, String program, int index, long address, boolean hasAddress,
                                 String reason, String line) {
        StringBuilder sb = new StringBuilder();
        if (program != null) sb.append("program ").append(program).append(": ");
        sb.append(reason);
        if (index >= 0) sb.append(" at insn ").append(index);
        if (hasAddress) sb.append(String.format(" (address 0x%x)", address));
        if (line != null) sb.append(" [").append(line.strip()).append(']');
        return sb.toString();
    }
}
