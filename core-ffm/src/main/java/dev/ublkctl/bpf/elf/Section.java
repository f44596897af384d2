package dev.ublkctl.bpf.elf;

/** One ELF64 section header, with its resolved name. */
public record Section(int index, String name, int type, long flags, long offset, long size,
                      int link, int info, long addralign, long entsize) {
    public static final int SHT_NULL = 0, SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3,
            SHT_RELA = 4, SHT_NOBITS = 8, SHT_REL = 9;
    public static final long SHF_WRITE = 0x1, SHF_ALLOC = 0x2, SHF_EXECINSTR = 0x4;

    public boolean isExecutable() { return type == SHT_PROGBITS && (flags & SHF_EXECINSTR) != 0; }

    public boolean isNobits() { return type == SHT_NOBITS; }

}
