package dev.ublkctl.bpf.elf;

/** One ELF64 symbol table entry, with its resolved name. */
public record Symbol(int index, String name, int info, int other, int shndx, long value, long size) {
    public static final int STB_LOCAL = 0, STB_GLOBAL = 1, STB_WEAK = 2;
    public static final int STT_NOTYPE = 0, STT_OBJECT = 1, STT_FUNC = 2, STT_SECTION = 3, STT_FILE = 4;
    public static final int SHN_UNDEF = 0, SHN_ABS = 0xfff1, SHN_COMMON = 0xfff2;

    public int bind() { return info >>> 4; }

    public int type() { return info & 0xf; }

    public boolean isUndefined() { return shndx == SHN_UNDEF; }

    public boolean isFunction() { return type() == STT_FUNC; }

    public boolean isSection() { return type() == STT_SECTION; }

    public boolean isGlobal() { return bind() == STB_GLOBAL || bind() == STB_WEAK; }
}
