package dev.ublkctl.bpf.object;

import java.util.List;
import java.util.Optional;

/**
 * A program as an object file declares it, relocated and linked (plain data, nothing loaded).
 *
 * <p>{@link #insns()} are little-endian 8-byte instruction slots with subprograms appended after
 * the entry function. Relocations follow these conventions:
 * <ul>
 *   <li>{@code ld_imm64} with src_reg 1 (BPF_PSEUDO_MAP_FD): imm = index into {@link BpfObject#maps()};</li>
 *   <li>{@code ld_imm64} with src_reg 2 (BPF_PSEUDO_MAP_VALUE): imm = map index, the second slot's
 *       imm = byte offset into the value (global data);</li>
 *   <li>{@code ld_imm64} with src_reg 4 (BPF_PSEUDO_FUNC): imm = pc-relative offset of a function;</li>
 *   <li>helper calls: src_reg 0, imm = helper id (as compiled);</li>
 *   <li>bpf-to-bpf calls: src_reg 1 (BPF_PSEUDO_CALL), imm = pc-relative offset (target - (call + 1));</li>
 *   <li>kfunc calls: src_reg 2 (BPF_PSEUDO_KFUNC_CALL), imm = index into {@link #kfuncs()}.</li>
 * </ul>
 * Function and line info are mapped to final instruction indices.
 *
 * @param name      the entry function's symbol name
 * @param section   the ELF section it came from ("struct_ops/ublk_bpf_queue_io_cmd", "xdp", ...)
 * @param type      the program type derived from the section
 * @param sleepable true for {@code struct_ops.s/} sections and {@code syscall} programs (load with BPF_F_SLEEPABLE)
 * @param attachTo  the part after the first '/' of the section name, "" if none
 * @param kfuncs    kfunc names referenced by kfunc calls, by index
 * @param license   the object's license string
 */
public record ProgramSpec(String name, String section, ProgramType type, boolean sleepable, String attachTo,
                          byte[] insns, List<String> kfuncs, List<FuncInfo> funcInfo, List<LineInfo> lineInfo,
                          List<CoreRelo> coreRelos, String license) {
    public static final int INSN_SIZE = 8;

    /** A function (entry or subprogram) starting at instruction {@code insn}; {@code typeId} is its BTF FUNC. */
    public record FuncInfo(int insn, int typeId, String name) {}

    /** The C source position of instruction {@code insn}. */
    public record LineInfo(int insn, String file, String sourceLine, int line, int column) {
        @Override
        public String toString() { return file + ":" + line + ":" + column + ": " + sourceLine.strip(); }
    }

    /** A CO-RE field/type relocation recorded by clang for instruction {@code insn} (kind per libbpf's bpf_core_relo_kind). */
    public record CoreRelo(int insn, int typeId, String accessString, int kind) {}

    public ProgramSpec {
        insns = insns.clone();
        kfuncs = List.copyOf(kfuncs);
        funcInfo = List.copyOf(funcInfo);
        lineInfo = List.copyOf(lineInfo);
        coreRelos = List.copyOf(coreRelos);
    }

    /** A copy of the instruction bytes. */
    @Override
    public byte[] insns() { return insns.clone(); }

    public int insnCount() { return insns.length / INSN_SIZE; }

    /** Instruction {@code i} as the little-endian 64-bit value of its slot. */
    public long insn(int i) {
        if (i < 0 || i >= insnCount()) throw new IndexOutOfBoundsException("instruction " + i + " of " + insnCount());
        long v = 0;
        for (int k = 7; k >= 0; k--) v = v << 8 | (insns[i * INSN_SIZE + k] & 0xff);
        return v;
    }

    /** The source line of instruction {@code i}: the last line info at or before it. */
    public Optional<LineInfo> lineAt(int i) {
        LineInfo best = null;
        for (LineInfo l : lineInfo) {
            if (l.insn() <= i && (best == null || l.insn() >= best.insn())) best = l;
        }
        return Optional.ofNullable(best);
    }

    /** The function (entry or subprogram) instruction {@code i} belongs to. */
    public Optional<FuncInfo> functionAt(int i) {
        FuncInfo best = null;
        for (FuncInfo f : funcInfo) if (f.insn() <= i && (best == null || f.insn() >= best.insn())) best = f;
        return Optional.ofNullable(best);
    }

    @Override
    public String toString() {
        return "ProgramSpec[" + name + " " + type + (sleepable ? " sleepable" : "") + " section " + section
                + ", " + insnCount() + " insns, kfuncs " + kfuncs + "]";
    }
}
