package dev.ublkctl.bpf.elf;

import dev.ublkctl.bpf.testing.BpfObjects;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ElfFileTest {

    @Test
    void parsesBundledNullObject() {
        ElfFile elf = ElfFile.parse(BpfObjects.bundledBytes("null"));
        assertEquals(ElfHeader.EM_BPF, elf.header().machine());
        assertEquals(ElfHeader.ET_REL, elf.header().type());
        Section code = elf.section("struct_ops/ublk_bpf_queue_io_cmd").orElseThrow();
        assertTrue(code.isExecutable());
        assertEquals(0, code.size() % 8);
        assertTrue(elf.section(".BTF").isPresent());
        assertTrue(elf.section(".bss").orElseThrow().isNobits());
        Symbol fn = elf.symbols().stream().filter(s -> s.name().equals("null_queue_io")).findFirst().orElseThrow();
        assertTrue(fn.isFunction());
        assertTrue(fn.isGlobal());
        assertEquals(code.index(), fn.shndx());
        List<Relocation> relocs = elf.relocations(code);
        assertFalse(relocs.isEmpty());
        // kfunc calls are R_BPF_64_32 against undefined symbols, map references R_BPF_64_64
        assertTrue(relocs.stream().anyMatch(r -> r.type() == Relocation.R_BPF_64_32
                && r.symbol().name().equals("ublk_bpf_complete_io") && r.symbol().isUndefined()));
        assertTrue(relocs.stream().anyMatch(r -> r.type() == Relocation.R_BPF_64_64 && r.symbol().name().equals("qstats")));
        // struct_ops function pointers are R_BPF_64_ABS64 in .struct_ops.link
        Section ops = elf.section(".struct_ops.link").orElseThrow();
        assertTrue(elf.relocations(ops).stream().allMatch(r -> r.type() == Relocation.R_BPF_64_ABS64));
        // .BTF.ext carries R_BPF_64_NODYLD32 relocations
        Section ext = elf.section(".BTF.ext").orElseThrow();
        assertTrue(elf.relocations(ext).stream().anyMatch(r -> r.type() == Relocation.R_BPF_64_NODYLD32));
        assertArrayEquals(new byte[(int) elf.section(".bss").orElseThrow().size()], elf.contents(elf.section(".bss").orElseThrow()));
    }

    @Test
    void rejectsTruncatedAndForeignFiles() {
        byte[] obj = BpfObjects.bundledBytes("test/sockfilter");
        assertMessage(() -> ElfFile.parse(Arrays.copyOf(obj, 20)), "truncated ELF header");
        byte[] bad = obj.clone();
        bad[1] = 'X';
        assertMessage(() -> ElfFile.parse(bad), "bad magic");
        byte[] be = obj.clone();
        be[5] = 2;
        assertMessage(() -> ElfFile.parse(be), "little-endian");
        byte[] x86 = obj.clone();
        x86[18] = 62;
        assertMessage(() -> ElfFile.parse(x86), "not a BPF object");
        // cut off the section header table at the end of the file
        assertMessage(() -> ElfFile.parse(Arrays.copyOf(obj, obj.length - 10)), "section header table");
    }

    @Test
    void rejectsSectionOutsideTheFile() {
        byte[] obj = BpfObjects.bundledBytes("test/sockfilter");
        ElfFile elf = ElfFile.parse(obj);
        Section text = elf.section("socket").orElseThrow();
        byte[] bad = obj.clone();
        long shdr = elf.header().shoff() + (long) text.index() * 64;
        le(bad).putLong((int) shdr + 24, obj.length + 100L); // sh_offset
        assertMessage(() -> ElfFile.parse(bad), "section " + text.index() + ": bytes");
        byte[] huge = obj.clone();
        le(huge).putLong((int) shdr + 32, Long.MAX_VALUE); // sh_size
        assertMessage(() -> ElfFile.parse(huge), "outside the file");
    }

    @Test
    void rejectsBadSymbolAndRelocationReferences() {
        byte[] obj = BpfObjects.bundledBytes("test/sockfilter");
        ElfFile elf = ElfFile.parse(obj);
        Section code = elf.section("socket").orElseThrow();
        Section rel = elf.sections().stream().filter(s -> s.type() == Section.SHT_REL && s.info() == code.index()).findFirst().orElseThrow();
        byte[] bad = obj.clone();
        le(bad).putInt((int) rel.offset() + 12, 99999); // symbol index of the first relocation
        assertMessage(() -> ElfFile.parse(bad), "symbol index 99999 out of range");
        byte[] off = obj.clone();
        le(off).putLong((int) rel.offset(), code.size() + 8); // offset past the code section
        assertMessage(() -> ElfFile.parse(off), "outside socket");
        Section symtab = elf.sections().stream().filter(s -> s.type() == Section.SHT_SYMTAB).findFirst().orElseThrow();
        byte[] name = obj.clone();
        le(name).putInt((int) symtab.offset() + 24, 0x7fffff00); // st_name of symbol 1
        assertMessage(() -> ElfFile.parse(name), "outside the string table");
        byte[] entsize = obj.clone();
        le(entsize).putLong((int) (elf.header().shoff() + (long) symtab.index() * 64 + 56), 20);
        assertMessage(() -> ElfFile.parse(entsize), "entry size 20");
    }

    private static ByteBuffer le(byte[] b) { return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN); }

    static void assertMessage(org.junit.jupiter.api.function.Executable e, String part) {
        ElfException ex = assertThrows(ElfException.class, e);
        assertTrue(ex.getMessage().contains(part), () -> "message '" + ex.getMessage() + "' lacks '" + part + "'");
    }
}
