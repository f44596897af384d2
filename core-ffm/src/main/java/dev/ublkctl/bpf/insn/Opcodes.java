package dev.ublkctl.bpf.insn;

/**
 * eBPF opcode fields (Documentation/bpf/standardization/instruction-set.rst).
 * An opcode byte is {@code class | (op or mode) | (source or size)}.
 */
public final class Opcodes {
    private Opcodes() {}

    // instruction classes (low 3 bits)
    public static final int LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03,
            ALU = 0x04, JMP = 0x05, JMP32 = 0x06, ALU64 = 0x07;

    // source bit for ALU/JMP
    public static final int K = 0x00, X = 0x08;

    // ALU operations (high 4 bits)
    public static final int ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50,
            LSH = 0x60, RSH = 0x70, NEG = 0x80, MOD = 0x90, XOR = 0xa0, MOV = 0xb0, ARSH = 0xc0, END = 0xd0;
    /** BPF_END direction: to little endian (source bit 0) or big endian (source bit 1). */
    public static final int TO_LE = 0x00, TO_BE = 0x08;

    // jump operations (high 4 bits)
    public static final int JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40, JNE = 0x50,
            JSGT = 0x60, JSGE = 0x70, CALL = 0x80, EXIT = 0x90, JLT = 0xa0, JLE = 0xb0, JSLT = 0xc0, JSLE = 0xd0;

    // memory sizes (bits 3-4) and modes (bits 5-7)
    public static final int W = 0x00, H = 0x08, B = 0x10, DW = 0x18;
    public static final int IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, MEMSX = 0x80, ATOMIC = 0xc0;

    // atomic operations (imm of an ATOMIC instruction)
    public static final int FETCH = 0x01, XCHG = 0xe0 | FETCH, CMPXCHG = 0xf0 | FETCH,
            LOAD_ACQ = 0x100, STORE_REL = 0x110;

    // src_reg values of LD_IMM64 and CALL: Instruction.ImmKind and Instruction.CallKind

    public static final int LDDW = LD | IMM | DW;

    public static int cls(int opcode) { return opcode & 0x07; }
    public static int size(int opcode) { return opcode & 0x18; }
    public static int mode(int opcode) { return opcode & 0xe0; }
    public static int op(int opcode) { return opcode & 0xf0; }

    /** Bytes moved by a memory size field. */
    public static int bytes(int size) {
        return switch (size) { case W -> 4; case H -> 2; case B -> 1; default -> 8; };
    }

    /** Raw 64-bit slot from its fields, as the kernel's {@code struct bpf_insn} lays it out (little endian). */
    public static long encode(int opcode, int dst, int src, int off, int imm) {
        return (opcode & 0xffL) | ((dst & 0xfL) << 8) | ((src & 0xfL) << 12)
                | ((off & 0xffffL) << 16) | ((imm & 0xffffffffL) << 32);
    }

    public static int opcode(long raw) { return (int) raw & 0xff; }
    public static int dst(long raw) { return (int) (raw >>> 8) & 0xf; }
    public static int src(long raw) { return (int) (raw >>> 12) & 0xf; }
    public static int off(long raw) { return (short) (raw >>> 16); }
    public static int imm(long raw) { return (int) (raw >>> 32); }
}
