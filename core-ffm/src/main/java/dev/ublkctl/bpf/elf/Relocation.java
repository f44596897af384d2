package dev.ublkctl.bpf.elf;

/**
 * One REL entry of a BPF object: where (offset in the target section), what kind and which symbol.
 *
 * @param offset byte offset in the section the relocation applies to
 * @param type   relocation type (R_BPF_*)
 * @param symbol the symbol it refers to (index 0 is the null symbol)
 */
public record Relocation(long offset, int type, Symbol symbol) {
    /** The BPF relocation types of LLVM's BPF backend. */
    public static final int R_BPF_NONE = 0, R_BPF_64_64 = 1, R_BPF_64_ABS64 = 2, R_BPF_64_ABS32 = 3,
            R_BPF_64_NODYLD32 = 4, R_BPF_64_32 = 10;

    public static String typeName(int type) {
        return switch (type) {
            case R_BPF_NONE -> "R_BPF_NONE";
            case R_BPF_64_64 -> "R_BPF_64_64";
            case R_BPF_64_ABS64 -> "R_BPF_64_ABS64";
            case R_BPF_64_ABS32 -> "R_BPF_64_ABS32";
            case R_BPF_64_NODYLD32 -> "R_BPF_64_NODYLD32";
            case R_BPF_64_32 -> "R_BPF_64_32";
            default -> "R_BPF_" + type;
        };
    }
}
