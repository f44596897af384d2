package dev.ublkctl.bpf.vm;

import dev.ublkctl.bpf.insn.Instruction;
import dev.ublkctl.bpf.insn.Instruction.*;

/**
 * Predecoded operation numbers: one dense int per instruction so engines switch on a table and never
 * re-inspect offset/src fields (signed div, movsx width, call kind, atomic op are folded in).
 * Shared by every {@link ExecutionEngine}.
 */
public final class Uop {
    private Uop() {}

    // ALU: 2 * AluOp-index + (X ? 1 : 0); 64-bit at 0..31, 32-bit at 32..63 (see alu())
    public static final int ADD64_K = 0, ADD64_X = 1, SUB64_K = 2, SUB64_X = 3, MUL64_K = 4, MUL64_X = 5,
            DIV64_K = 6, DIV64_X = 7, SDIV64_K = 8, SDIV64_X = 9, OR64_K = 10, OR64_X = 11, AND64_K = 12, AND64_X = 13,
            LSH64_K = 14, LSH64_X = 15, RSH64_K = 16, RSH64_X = 17, NEG64 = 18, MOD64_K = 19, MOD64_X = 20,
            SMOD64_K = 21, SMOD64_X = 22, XOR64_K = 23, XOR64_X = 24, MOV64_K = 25, MOV64_X = 26,
            MOVSX64_8 = 27, MOVSX64_16 = 28, MOVSX64_32 = 29, ARSH64_K = 30, ARSH64_X = 31;
    public static final int ALU32 = 32;
    public static final int ADD32_K = 32, ADD32_X = 33, SUB32_K = 34, SUB32_X = 35, MUL32_K = 36, MUL32_X = 37,
            DIV32_K = 38, DIV32_X = 39, SDIV32_K = 40, SDIV32_X = 41, OR32_K = 42, OR32_X = 43, AND32_K = 44, AND32_X = 45,
            LSH32_K = 46, LSH32_X = 47, RSH32_K = 48, RSH32_X = 49, NEG32 = 50, MOD32_K = 51, MOD32_X = 52,
            SMOD32_K = 53, SMOD32_X = 54, XOR32_K = 55, XOR32_X = 56, MOV32_K = 57, MOV32_X = 58,
            MOVSX32_8 = 59, MOVSX32_16 = 60, ARSH32_K = 62, ARSH32_X = 63;
    // byte swaps (BSWAP in ALU64 is the same as "to big endian" on this little-endian machine)
    public static final int LE16 = 64, LE32 = 65, LE64 = 66, BE16 = 67, BE32 = 68, BE64 = 69;
    // conditional jumps: JBASE + 4 * (index in JMP_ORDER) + (JMP32 ? 2 : 0) + (X ? 1 : 0)
    public static final int JBASE = 70;
    public static final int JEQ_K = 70, JEQ_X = 71, JEQ32_K = 72, JEQ32_X = 73, JGT_K = 74, JGT_X = 75, JGT32_K = 76, JGT32_X = 77,
            JGE_K = 78, JGE_X = 79, JGE32_K = 80, JGE32_X = 81, JSET_K = 82, JSET_X = 83, JSET32_K = 84, JSET32_X = 85,
            JNE_K = 86, JNE_X = 87, JNE32_K = 88, JNE32_X = 89, JSGT_K = 90, JSGT_X = 91, JSGT32_K = 92, JSGT32_X = 93,
            JSGE_K = 94, JSGE_X = 95, JSGE32_K = 96, JSGE32_X = 97, JLT_K = 98, JLT_X = 99, JLT32_K = 100, JLT32_X = 101,
            JLE_K = 102, JLE_X = 103, JLE32_K = 104, JLE32_X = 105, JSLT_K = 106, JSLT_X = 107, JSLT32_K = 108, JSLT32_X = 109,
            JSLE_K = 110, JSLE_X = 111, JSLE32_K = 112, JSLE32_X = 113;
    public static final int JA = 114, CALL_NATIVE = 115, CALL_LOCAL = 116, EXIT = 117, LDDW = 118;
    public static final int LDX_B = 119, LDX_H = 120, LDX_W = 121, LDX_DW = 122, LDXSX_B = 123, LDXSX_H = 124, LDXSX_W = 125;
    public static final int ST_B = 126, ST_H = 127, ST_W = 128, ST_DW = 129, STX_B = 130, STX_H = 131, STX_W = 132, STX_DW = 133;
    // atomics: A32_ADD/A64_ADD + index of op in ATOMIC_ORDER
    public static final int A32_ADD = 134, A32_OR = 135, A32_AND = 136, A32_XOR = 137, A32_FADD = 138, A32_FOR = 139,
            A32_FAND = 140, A32_FXOR = 141, A32_XCHG = 142, A32_CMPXCHG = 143;
    public static final int A64_ADD = 144, A64_OR = 145, A64_AND = 146, A64_XOR = 147, A64_FADD = 148, A64_FOR = 149,
            A64_FAND = 150, A64_FXOR = 151, A64_XCHG = 152, A64_CMPXCHG = 153;
    public static final int LDACQ_B = 154, LDACQ_H = 155, LDACQ_W = 156, LDACQ_DW = 157,
            STREL_B = 158, STREL_H = 159, STREL_W = 160, STREL_DW = 161;
    /** Placed after the last instruction: falling off the end of the program. */
    public static final int END_OF_PROGRAM = 162;
    /** The second slot of an ld_imm64 (never executed: jumps into it are rejected). */
    public static final int LDDW_HI = 163;

    // The numbering is this class's own: tables here, never another package's enum order.
    private static final AluOp[] ALU_ORDER = {AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.DIV, AluOp.SDIV, AluOp.OR, AluOp.AND,
            AluOp.LSH, AluOp.RSH};
    private static final JmpOp[] JMP_ORDER = {JmpOp.JEQ, JmpOp.JGT, JmpOp.JGE, JmpOp.JSET, JmpOp.JNE, JmpOp.JSGT, JmpOp.JSGE,
            JmpOp.JLT, JmpOp.JLE, JmpOp.JSLT, JmpOp.JSLE};
    private static final AtomicOp[] ATOMIC_ORDER = {AtomicOp.ADD, AtomicOp.OR, AtomicOp.AND, AtomicOp.XOR, AtomicOp.FETCH_ADD,
            AtomicOp.FETCH_OR, AtomicOp.FETCH_AND, AtomicOp.FETCH_XOR, AtomicOp.XCHG, AtomicOp.CMPXCHG};

    /** The uop of a decoded instruction (must not be {@link Instruction.Unknown}). */
    public static int of(Instruction insn) {
        return switch (insn) {
            case Alu a -> alu(a);
            case ByteSwap s -> switch (s.kind()) {
                case LE -> s.width() == 16 ? LE16 : s.width() == 32 ? LE32 : LE64;
                case BE, BSWAP -> s.width() == 16 ? BE16 : s.width() == 32 ? BE32 : BE64;
            };
            case Jump j -> JBASE + 4 * indexIn(JMP_ORDER, j.op()) + (j.wide() ? 0 : 2) + (j.regSource() ? 1 : 0);
            case Goto g -> JA;
            case LoadImm64 l -> LDDW;
            case Load l -> (l.signExtend() ? LDXSX_B : LDX_B) + sizeIndex(l.size());
            case Store s -> (s.regSource() ? STX_B : ST_B) + sizeIndex(s.size());
            case Atomic a -> switch (a.op()) {
                case LOAD_ACQUIRE -> LDACQ_B + sizeIndex(a.size());
                case STORE_RELEASE -> STREL_B + sizeIndex(a.size());
                default -> (a.size() == Size.DW ? A64_ADD : A32_ADD) + indexIn(ATOMIC_ORDER, a.op());
            };
            case Call c -> c.kind() == CallKind.LOCAL ? CALL_LOCAL : CALL_NATIVE;
            case Exit e -> EXIT;
            case Unknown u -> throw new IllegalArgumentException("no uop for an invalid instruction");
        };
    }

    private static <T> int indexIn(T[] order, T op) {
        for (int i = 0; i < order.length; i++) if (order[i] == op) return i;
        throw new AssertionError(op);
    }

    private static int sizeIndex(Size s) {
        return switch (s) { case B -> 0; case H -> 1; case W -> 2; case DW -> 3; };
    }

    private static int alu(Alu a) {
        int x = a.regSource() ? 1 : 0;
        int base = switch (a.op()) {
            case NEG -> NEG64;
            case MOD -> MOD64_K + x;
            case SMOD -> SMOD64_K + x;
            case XOR -> XOR64_K + x;
            case MOV -> MOV64_K + x;
            case MOVSX -> a.off() == 8 ? MOVSX64_8 : a.off() == 16 ? MOVSX64_16 : MOVSX64_32;
            case ARSH -> ARSH64_K + x;
            default -> {
                for (int i = 0; i < ALU_ORDER.length; i++) if (ALU_ORDER[i] == a.op()) yield 2 * i + x;
                throw new AssertionError(a.op());
            }
        };
        return a.wide() ? base : base + ALU32;
    }
}
