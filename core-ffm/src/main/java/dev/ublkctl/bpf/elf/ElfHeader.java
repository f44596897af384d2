package dev.ublkctl.bpf.elf;

/**
 * The fields of an ELF64 header that a relocatable BPF object needs.
 *
 * @param type      e_type (1 = ET_REL)
 * @param machine   e_machine (247 = EM_BPF)
 * @param flags     e_flags
 * @param shoff     section header table offset
 * @param shentsize section header entry size (64 for ELF64)
 * @param shnum     number of section headers
 * @param shstrndx  index of the section name string table
 */
public record ElfHeader(int type, int machine, int flags, long shoff, int shentsize, int shnum, int shstrndx) {
    public static final int ET_REL = 1;
    public static final int EM_BPF = 247;
}
