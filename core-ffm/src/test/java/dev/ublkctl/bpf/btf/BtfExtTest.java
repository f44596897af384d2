package dev.ublkctl.bpf.btf;

import dev.ublkctl.bpf.elf.ElfFile;
import dev.ublkctl.bpf.testing.BpfObjects;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class BtfExtTest {

    @Test
    void funcAndLineInfoPerSection() {
        ElfFile elf = ElfFile.parse(BpfObjects.bundledBytes("loop"));
        Btf btf = Btf.parse(elf.contents(elf.section(".BTF").orElseThrow()));
        BtfExt ext = BtfExt.parse(elf.contents(elf.section(".BTF.ext").orElseThrow()), btf);
        String sec = "struct_ops.s/ublk_bpf_queue_io_cmd_daemon";
        List<BtfExt.FuncInfo> funcs = ext.funcInfo().get(sec);
        assertEquals(1, funcs.size());
        assertEquals(0, funcs.get(0).insnOff());
        assertEquals("loop_queue_io", btf.type(funcs.get(0).typeId()).name());
        List<BtfExt.LineInfo> lines = ext.lineInfo().get(sec);
        assertTrue(lines.size() > 10);
        assertTrue(lines.stream().allMatch(l -> l.file().endsWith("loop.c") || l.file().endsWith(".h")), lines.get(0)::toString);
        assertTrue(lines.stream().anyMatch(l -> l.sourceLine().contains("bpf_aio_submit(aio, fd")));
        assertTrue(lines.stream().allMatch(l -> l.line() >= 0 && l.insnOff() % 8 == 0)); // line 0: compiler-generated code
        // preserve_access_index on the kernel structs gives CO-RE relocations for io->iod etc.
        assertFalse(ext.coreRelos().isEmpty());
        assertTrue(ext.coreRelos().values().stream().flatMap(List::stream).allMatch(c -> !c.accessString().isEmpty()));
    }

    @Test
    void rejectsCorruptExt() {
        ElfFile elf = ElfFile.parse(BpfObjects.bundledBytes("test/sockfilter"));
        Btf btf = Btf.parse(elf.contents(elf.section(".BTF").orElseThrow()));
        byte[] good = elf.contents(elf.section(".BTF.ext").orElseThrow());
        BtfTest.assertThrowsWith(() -> BtfExt.parse(new byte[8], btf), "truncated BTF.ext header");
        byte[] len = good.clone();
        ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).putInt(12, 1 << 30); // func_info_len
        BtfTest.assertThrowsWith(() -> BtfExt.parse(len, btf), "outside the data");
        byte[] rec = good.clone();
        int hdr = ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getInt(4);
        int funcOff = ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getInt(8);
        ByteBuffer.wrap(rec).order(ByteOrder.LITTLE_ENDIAN).putInt(hdr + funcOff, 3); // record size
        BtfTest.assertThrowsWith(() -> BtfExt.parse(rec, btf), "bad record size 3");
        byte[] type = good.clone();
        ByteBuffer.wrap(type).order(ByteOrder.LITTLE_ENDIAN).putInt(hdr + funcOff + 4 + 8 + 4, 99999); // first func's type id
        BtfTest.assertThrowsWith(() -> BtfExt.parse(type, btf), "out of range");
    }
}
