package dev.ublkctl.bpf.insn;

/**
 * One decoded eBPF instruction. Decoding is structural: register numbers, field values and
 * opcode combinations are checked, program-level rules (jump targets, register writes) are not.
 */
public sealed interface Instruction {

    /** The opcode byte of the (first) slot. */
    int opcode();

    /** Number of 8-byte slots this instruction takes (2 for {@link LoadImm64}). */
    default int slots() { return 1; }

    enum Size {
        B(1, "u8"), H(2, "u16"), W(4, "u32"), DW(8, "u64");
        public final int bytes;
        public final String cType;
        Size(int bytes, String cType) { this.bytes = bytes; this.cType = cType; }
        public int field() { return switch (this) { case B -> Opcodes.B; case H -> Opcodes.H; case W -> Opcodes.W; case DW -> Opcodes.DW; }; }
        public static Size ofField(int sizeField) {
            return switch (sizeField & 0x18) { case Opcodes.B -> B; case Opcodes.H -> H; case Opcodes.W -> W; default -> DW; };
        }
    }

    enum AluOp {
        ADD(Opcodes.ADD, "+="), SUB(Opcodes.SUB, "-="), MUL(Opcodes.MUL, "*="), DIV(Opcodes.DIV, "/="),
        SDIV(Opcodes.DIV, "s/="), OR(Opcodes.OR, "|="), AND(Opcodes.AND, "&="), LSH(Opcodes.LSH, "<<="),
        RSH(Opcodes.RSH, ">>="), NEG(Opcodes.NEG, "neg"), MOD(Opcodes.MOD, "%="), SMOD(Opcodes.MOD, "s%="),
        XOR(Opcodes.XOR, "^="), MOV(Opcodes.MOV, "="), MOVSX(Opcodes.MOV, "="), ARSH(Opcodes.ARSH, "s>>=");
        public final int code;
        public final String symbol;
        AluOp(int code, String symbol) { this.code = code; this.symbol = symbol; }
    }

    enum JmpOp {
        JEQ(Opcodes.JEQ, "=="), JGT(Opcodes.JGT, ">"), JGE(Opcodes.JGE, ">="), JSET(Opcodes.JSET, "&"),
        JNE(Opcodes.JNE, "!="), JSGT(Opcodes.JSGT, "s>"), JSGE(Opcodes.JSGE, "s>="), JLT(Opcodes.JLT, "<"),
        JLE(Opcodes.JLE, "<="), JSLT(Opcodes.JSLT, "s<"), JSLE(Opcodes.JSLE, "s<=");
        public final int code;
        public final String symbol;
        JmpOp(int code, String symbol) { this.code = code; this.symbol = symbol; }
        public static JmpOp ofCode(int op) {
            for (JmpOp j : values()) if (j.code == op) return j;
            return null;
        }
    }

    enum AtomicOp {
        ADD(Opcodes.ADD, "+="), OR(Opcodes.OR, "|="), AND(Opcodes.AND, "&="), XOR(Opcodes.XOR, "^="),
        FETCH_ADD(Opcodes.ADD | Opcodes.FETCH, "add"), FETCH_OR(Opcodes.OR | Opcodes.FETCH, "or"),
        FETCH_AND(Opcodes.AND | Opcodes.FETCH, "and"), FETCH_XOR(Opcodes.XOR | Opcodes.FETCH, "xor"),
        XCHG(Opcodes.XCHG, "xchg"), CMPXCHG(Opcodes.CMPXCHG, "cmpxchg"),
        LOAD_ACQUIRE(Opcodes.LOAD_ACQ, "load_acquire"), STORE_RELEASE(Opcodes.STORE_REL, "store_release");
        public final int imm;
        public final String text;
        AtomicOp(int imm, String text) { this.imm = imm; this.text = text; }
        public boolean fetches() { return (imm & Opcodes.FETCH) != 0; }
        public static AtomicOp ofImm(int imm) {
            for (AtomicOp a : values()) if (a.imm == imm) return a;
            return null;
        }
    }

    enum SwapKind { LE, BE, BSWAP }

    /** What a call's src_reg says it calls: the one table of the kernel's BPF_PSEUDO_*CALL values. */
    enum CallKind {
        /** src 0: helper by id. */ HELPER(0),
        /** src 1 (BPF_PSEUDO_CALL): bpf-to-bpf call, target = pc + imm + 1. */ LOCAL(1),
        /** src 2 (BPF_PSEUDO_KFUNC_CALL): kfunc, imm = index into the program's kfunc name list. */ KFUNC(2);
        public final int src;
        CallKind(int src) { this.src = src; }
        public static CallKind ofSrc(int src) {
            for (CallKind k : values()) if (k.src == src) return k;
            return null;
        }
    }

    /** What an ld_imm64's src_reg says it loads: the one table of the BPF_PSEUDO_* values there. */
    enum ImmKind {
        /** src 0: a plain 64-bit constant. */ VALUE(0),
        /** src 1 (BPF_PSEUDO_MAP_FD; here a map index): pointer to the map with index imm. */ MAP(1),
        /** src 2 (BPF_PSEUDO_MAP_VALUE): pointer into the value of map imm (first slot), plus the second slot's imm. */ MAP_VALUE(2),
        /** src 4 (BPF_PSEUDO_FUNC): address of the function at pc + imm + 1 (callbacks for bpf_loop and friends). */ FUNC(4);
        public final int src;
        ImmKind(int src) { this.src = src; }
        public static ImmKind ofSrc(int src) {
            for (ImmKind k : values()) if (k.src == src) return k;
            return null;
        }
    }

    /** ALU / ALU64 arithmetic, including signed div/mod and movsx (the sign-extension width is {@code off}). */
    record Alu(int opcode, boolean wide, AluOp op, boolean regSource, int dst, int src, int off, int imm) implements Instruction {}

    /** BPF_END (le/be in the ALU class) and BSWAP (ALU64 class); width 16, 32 or 64. */
    record ByteSwap(int opcode, SwapKind kind, int width, int dst) implements Instruction {}

    /** Conditional jump; {@code wide} false for JMP32 (compares the low 32 bits). */
    record Jump(int opcode, boolean wide, JmpOp op, boolean regSource, int dst, int src, int off, int imm) implements Instruction {}

    /** Unconditional jump: {@code goto} (JMP, 16-bit off) or {@code gotol} (JMP32, 32-bit imm). */
    record Goto(int opcode, boolean longJump, int offset) implements Instruction {}

    /** The two-slot 64-bit immediate load. For MAP/MAP_VALUE: map index in the low word, value offset in the high word. */
    record LoadImm64(int dst, ImmKind kind, long imm) implements Instruction {
        public int opcode() { return Opcodes.LDDW; }
        @Override public int slots() { return 2; }
        public int mapIndex() { return (int) imm; }
        public int valueOffset() { return (int) (imm >>> 32); }
        /** For FUNC: the pc-relative offset of the function (target = this slot + offset + 1). */
        public int funcOffset() { return (int) imm; }
    }

    /** LDX MEM / MEMSX: {@code dst = *(size *)(src + off)}. */
    record Load(int opcode, Size size, boolean signExtend, int dst, int src, int off) implements Instruction {}

    /** ST (imm) or STX (register): {@code *(size *)(dst + off) = src/imm}. */
    record Store(int opcode, Size size, boolean regSource, int dst, int src, int off, int imm) implements Instruction {}

    /** STX ATOMIC on {@code *(size *)(dst + off)} with operand {@code src}. */
    record Atomic(int opcode, Size size, AtomicOp op, int dst, int src, int off) implements Instruction {}

    record Call(CallKind kind, int imm) implements Instruction {
        public int opcode() { return Opcodes.JMP | Opcodes.CALL; }
    }

    record Exit() implements Instruction {
        public int opcode() { return Opcodes.JMP | Opcodes.EXIT; }
    }

    /** A slot that is not a valid instruction, with the reason. */
    record Unknown(long raw, String reason) implements Instruction {
        public int opcode() { return Opcodes.opcode(raw); }
    }
}
