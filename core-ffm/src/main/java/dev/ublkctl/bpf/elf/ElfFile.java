package dev.ublkctl.bpf.elf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A little-endian ELF64 relocatable file (what {@code clang -target bpf} produces), parsed eagerly.
 * Every offset and size is checked against the file before use; problems are {@link ElfException}s
 * that say what was wrong and where.
 */
public final class ElfFile {
    private static final int EHDR_SIZE = 64, SHDR_SIZE = 64, SYM_SIZE = 24, REL_SIZE = 16;
    /** Largest NOBITS (.bss) section accepted. */
    public static final long MAX_NOBITS = 64L << 20;

    private final byte[] data;
    private final ElfHeader header;
    private final List<Section> sections;
    private final List<Symbol> symbols;
    private final Map<Integer, List<Relocation>> relocationsByTarget;

    private ElfFile(byte[] data) {
        this.data = data;
        this.header = readHeader();
        this.sections = readSections();
        this.symbols = readSymbols();
        this.relocationsByTarget = readRelocations();
    }

    /** Parses {@code data} (not copied; do not modify it afterwards). */
    public static ElfFile parse(byte[] data) {
        if (data == null) throw new ElfException("no ELF data");
        return new ElfFile(data);
    }

    public ElfHeader header() { return header; }

    /** All sections, indexed by section number (index 0 is the null section). */
    public List<Section> sections() { return sections; }

    public Section section(int index) {
        if (index < 0 || index >= sections.size())
            throw new ElfException("section index " + index + " out of range (" + sections.size() + " sections)");
        return sections.get(index);
    }

    /** The first section with this name. */
    public Optional<Section> section(String name) {
        for (Section s : sections) if (s.name().equals(name)) return Optional.of(s);
        return Optional.empty();
    }

    /** The symbol table (index 0 is the null symbol), empty if the file has none. */
    public List<Symbol> symbols() { return symbols; }

    /** The relocations that apply to section {@code target}, in file order. */
    public List<Relocation> relocations(Section target) {
        return relocationsByTarget.getOrDefault(target.index(), List.of());
    }

    /** A copy of the section's bytes; zeros for NOBITS sections. */
    public byte[] contents(Section s) {
        if (s.isNobits()) {
            // NOBITS sizes are not backed by the file: bound them so a corrupt header cannot exhaust memory
            if (s.size() < 0 || s.size() > MAX_NOBITS) throw new ElfException("NOBITS section " + s.name() + " too large: " + s.size() + " bytes (limit " + MAX_NOBITS + ")");
            return new byte[(int) s.size()];
        }
        // SHT_NULL headers are not range-checked at parse time, so check here (a corrupt one can claim any range)
        checkRange("section " + s.name(), s.offset(), s.size());
        return Arrays.copyOfRange(data, (int) s.offset(), (int) (s.offset() + s.size()));
    }

    // ---- parsing -------------------------------------------------------------------------------

    private ElfHeader readHeader() {
        if (data.length < EHDR_SIZE)
            throw new ElfException("truncated ELF header: " + data.length + " bytes, need " + EHDR_SIZE);
        if (data[0] != 0x7f || data[1] != 'E' || data[2] != 'L' || data[3] != 'F')
            throw new ElfException("not an ELF file (bad magic)");
        if (data[4] != 2) throw new ElfException("not a 64-bit ELF file (EI_CLASS " + data[4] + ")");
        if (data[5] != 1) throw new ElfException("not a little-endian ELF file (EI_DATA " + data[5] + "); only little-endian BPF objects are supported");
        int type = u16(16), machine = u16(18);
        if (type != ElfHeader.ET_REL) throw new ElfException("not a relocatable object (e_type " + type + ")");
        if (machine != ElfHeader.EM_BPF) throw new ElfException("not a BPF object (e_machine " + machine + ", expected 247)");
        long shoff = u64(40);
        int flags = (int) u32(48);
        int shentsize = u16(58), shnum = u16(60), shstrndx = u16(62);
        if (shnum == 0) throw new ElfException("no section headers (e_shnum 0; extended numbering is not supported)");
        if (shentsize != SHDR_SIZE) throw new ElfException("bad section header size " + shentsize + ", expected " + SHDR_SIZE);
        checkRange("section header table", shoff, (long) shnum * SHDR_SIZE);
        if (shstrndx >= shnum) throw new ElfException("section name table index " + shstrndx + " out of range (" + shnum + " sections)");
        return new ElfHeader(type, machine, flags, shoff, shentsize, shnum, shstrndx);
    }

    private List<Section> readSections() {
        int n = header.shnum();
        long[][] raw = new long[n][];
        for (int i = 0; i < n; i++) {
            int at = (int) (header.shoff() + (long) i * SHDR_SIZE);
            raw[i] = new long[] {u32(at), u32(at + 4), u64(at + 8), u64(at + 24), u64(at + 32),
                    u32(at + 40), u32(at + 44), u64(at + 48), u64(at + 56)};
            if (raw[i][1] != Section.SHT_NOBITS && raw[i][1] != Section.SHT_NULL)
                checkRange("section " + i, raw[i][3], raw[i][4]);
        }
        long[] str = raw[header.shstrndx()];
        if (str[1] != Section.SHT_STRTAB) throw new ElfException("section name table (section " + header.shstrndx() + ") is not a string table");
        List<Section> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long[] r = raw[i];
            String name = string(str[3], str[4], r[0], "name of section " + i);
            if (r[5] >= n) throw new ElfException("section " + name + ": sh_link " + r[5] + " out of range");
            out.add(new Section(i, name, (int) r[1], r[2], r[3], r[4], (int) r[5], (int) r[6], r[7], r[8]));
        }
        return Collections.unmodifiableList(out);
    }

    private List<Symbol> readSymbols() {
        Section symtab = null;
        for (Section s : sections) {
            if (s.type() == Section.SHT_SYMTAB) {
                if (symtab != null) throw new ElfException("more than one symbol table");
                symtab = s;
            }
        }
        if (symtab == null) return List.of();
        if (symtab.entsize() != SYM_SIZE) throw new ElfException("symbol table " + symtab.name() + ": entry size " + symtab.entsize() + ", expected " + SYM_SIZE);
        if (symtab.size() % SYM_SIZE != 0) throw new ElfException("symbol table size " + symtab.size() + " is not a multiple of " + SYM_SIZE);
        Section strtab = sections.get(symtab.link());
        if (strtab.type() != Section.SHT_STRTAB) throw new ElfException("symbol table links to " + strtab.name() + ", which is not a string table");
        int count = (int) (symtab.size() / SYM_SIZE);
        List<Symbol> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int at = (int) (symtab.offset() + (long) i * SYM_SIZE);
            long nameOff = u32(at);
            int info = data[at + 4] & 0xff, other = data[at + 5] & 0xff, shndx = u16(at + 6);
            long value = u64(at + 8), size = u64(at + 16);
            String name = string(strtab.offset(), strtab.size(), nameOff, "name of symbol " + i);
            if (shndx != Symbol.SHN_UNDEF && shndx < 0xff00 && shndx >= sections.size())
                throw new ElfException("symbol " + displayName(name, i) + ": section index " + shndx + " out of range");
            if ((info & 0xf) == Symbol.STT_SECTION && name.isEmpty() && shndx < sections.size())
                name = sections.get(shndx).name();
            out.add(new Symbol(i, name, info, other, shndx, value, size));
        }
        return Collections.unmodifiableList(out);
    }

    private Map<Integer, List<Relocation>> readRelocations() {
        Map<Integer, List<Relocation>> out = new HashMap<>();
        for (Section s : sections) {
            if (s.type() == Section.SHT_RELA)
                throw new ElfException("RELA relocation section " + s.name() + " is not supported in BPF objects");
            if (s.type() != Section.SHT_REL) continue;
            if (s.entsize() != REL_SIZE) throw new ElfException("relocation section " + s.name() + ": entry size " + s.entsize() + ", expected " + REL_SIZE);
            if (s.size() % REL_SIZE != 0) throw new ElfException("relocation section " + s.name() + ": size " + s.size() + " is not a multiple of " + REL_SIZE);
            if (s.info() <= 0 || s.info() >= sections.size())
                throw new ElfException("relocation section " + s.name() + ": target section " + s.info() + " out of range");
            Section target = sections.get(s.info());
            if (symbols.isEmpty() || sections.get(s.link()).type() != Section.SHT_SYMTAB)
                throw new ElfException("relocation section " + s.name() + " has no symbol table");
            int count = (int) (s.size() / REL_SIZE);
            List<Relocation> list = out.computeIfAbsent(target.index(), k -> new ArrayList<>());
            for (int i = 0; i < count; i++) {
                int at = (int) (s.offset() + (long) i * REL_SIZE);
                long offset = u64(at);
                long info = u64(at + 8);
                long symIndex = info >>> 32;
                int type = (int) (info & 0xffffffffL);
                if (symIndex >= symbols.size())
                    throw new ElfException("relocation " + i + " in " + s.name() + ": symbol index " + symIndex + " out of range (" + symbols.size() + " symbols)");
                if (offset < 0 || offset >= target.size())
                    throw new ElfException("relocation " + i + " in " + s.name() + ": offset " + offset + " outside " + target.name() + " (size " + target.size() + ")");
                list.add(new Relocation(offset, type, symbols.get((int) symIndex)));
            }
        }
        out.replaceAll((k, v) -> List.copyOf(v));
        return out;
    }

    private static String displayName(String name, int index) { return name.isEmpty() ? "#" + index : name; }

    /** A NUL-terminated string at {@code off} inside the string table [tabOff, tabOff+tabSize). */
    private String string(long tabOff, long tabSize, long off, String what) {
        if (off >= tabSize && !(off == 0 && tabSize == 0))
            throw new ElfException(what + ": string offset " + off + " outside the string table (size " + tabSize + ")");
        if (tabSize == 0) return "";
        int start = (int) (tabOff + off), end = start, limit = (int) (tabOff + tabSize);
        while (end < limit && data[end] != 0) end++;
        if (end == limit) throw new ElfException(what + ": string at offset " + off + " is not NUL-terminated");
        return new String(data, start, end - start, StandardCharsets.UTF_8);
    }

    private void checkRange(String what, long off, long size) {
        if (off < 0 || size < 0 || off > data.length || size > data.length - off)
            throw new ElfException(what + ": bytes [" + off + ", " + off + "+" + size + ") outside the file (" + data.length + " bytes)");
    }

    private int u16(int at) { return (data[at] & 0xff) | (data[at + 1] & 0xff) << 8; }

    private long u32(int at) { return (u16(at) | (long) u16(at + 2) << 16) & 0xffffffffL; }

    private long u64(int at) { return u32(at) | u32(at + 4) << 32; }
}
