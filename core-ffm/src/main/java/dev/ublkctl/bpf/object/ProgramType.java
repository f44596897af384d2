package dev.ublkctl.bpf.object;

/** BPF program types ublkctl knows, with the kernel's {@code enum bpf_prog_type} values. */
public enum ProgramType {
    SOCKET_FILTER(1), XDP(6), STRUCT_OPS(27), SYSCALL(31);

    public final int kernelId;

    ProgramType(int kernelId) { this.kernelId = kernelId; }

    /** The program type libbpf infers from an ELF section name, or null if unknown. */
    public static ProgramType ofSection(String section) {
        if (section.startsWith("struct_ops")) return STRUCT_OPS;
        if (section.equals("socket") || section.startsWith("socket/")) return SOCKET_FILTER;
        if (section.equals("xdp") || section.startsWith("xdp/") || section.startsWith("xdp.frags")) return XDP;
        if (section.equals("syscall")) return SYSCALL;
        return null;
    }
}
