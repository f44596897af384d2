package dev.ublkctl.bpf.object;

import dev.ublkctl.bpf.elf.ElfFile;
import dev.ublkctl.bpf.elf.Relocation;
import dev.ublkctl.bpf.elf.Section;
import dev.ublkctl.bpf.elf.Symbol;
import dev.ublkctl.bpf.testing.BpfObjects;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.*;

class MalformedObjectTest {

    private static void assertObjectError(byte[] obj, String part) {
        ObjectException e = assertThrows(ObjectException.class, () -> BpfObject.parse(obj, "bad"));
        assertTrue(e.getMessage().startsWith("bad: "), e.getMessage());
        assertTrue(e.getMessage().contains(part), () -> "message '" + e.getMessage() + "' lacks '" + part + "'");
    }

    /** File offset of the REL entry for the map reference in the socket filter's code. */
    private record RelAt(ElfFile elf, Section code, long entryOffset, Relocation rel) {}

    private static RelAt mapRelocation(byte[] obj) {
        ElfFile elf = ElfFile.parse(obj);
        Section code = elf.section("socket").orElseThrow();
        Section rel = elf.sections().stream().filter(s -> s.type() == Section.SHT_REL && s.info() == code.index()).findFirst().orElseThrow();
        var relocs = elf.relocations(code);
        for (int i = 0; i < relocs.size(); i++) {
            if (relocs.get(i).symbol().name().equals("counts"))
                return new RelAt(elf, code, rel.offset() + 16L * i, relocs.get(i));
        }
        throw new AssertionError("no relocation against counts");
    }

    @Test
    void relocationOnAnInstructionThatTakesNone() {
        byte[] obj = BpfObjects.bundledBytes("test/sockfilter").clone();
        RelAt r = mapRelocation(obj);
        // point the relocation at the entry's first instruction, which is not ld_imm64 or call
        int first = obj[(int) r.code().offset()] & 0xff;
        assertNotEquals(0x18, first);
        ByteBuffer.wrap(obj).order(ByteOrder.LITTLE_ENDIAN).putLong((int) r.entryOffset(), 0);
        assertObjectError(obj, "neither ld_imm64 nor call");
    }

    @Test
    void relocationToASymbolThatIsNoMapNorCode() {
        byte[] obj = BpfObjects.bundledBytes("test/sockfilter").clone();
        RelAt r = mapRelocation(obj);
        Symbol license = r.elf().symbols().stream().filter(s -> s.name().equals("LICENSE")).findFirst().orElseThrow();
        ByteBuffer.wrap(obj).order(ByteOrder.LITTLE_ENDIAN).putInt((int) r.entryOffset() + 12, license.index());
        assertObjectError(obj, "LICENSE in section license, which is neither a map, global data nor code");
    }

    @Test
    void callIntoTheMiddleOfAFunction() {
        byte[] obj = BpfObjects.bundledBytes("test/sockfilter").clone();
        ElfFile elf = ElfFile.parse(obj);
        Section code = elf.section("socket").orElseThrow();
        for (int k = 0; k < code.size() / 8; k++) {
            int at = (int) code.offset() + k * 8;
            if ((obj[at] & 0xff) == 0x85 && ((obj[at + 1] >> 4) & 0xf) == 1) {
                ByteBuffer b = ByteBuffer.wrap(obj).order(ByteOrder.LITTLE_ENDIAN);
                b.putInt(at + 4, b.getInt(at + 4) + 1);
                assertObjectError(obj, "is not the start of a function");
                return;
            }
        }
        fail("no bpf-to-bpf call in the socket filter");
    }

    @Test
    void callToAnUndefinedFunctionThatIsNotAKfunc() {
        byte[] obj = BpfObjects.compile("undef", """
                #include "ublk_bpf.h"
                extern int not_a_kfunc(int x);
                SEC("syscall") int prog(void *ctx) { return not_a_kfunc(3); }
                char LICENSE[] SEC("license") = "GPL";
                """);
        assertObjectError(obj, "call to undefined function not_a_kfunc");
    }

    @Test
    void externKernelVariablesAreRefused() {
        byte[] obj = BpfObjects.compile("ksymvar", """
                #include "ublk_bpf.h"
                extern const int some_kernel_var __ksym;
                SEC("syscall") int prog(void *ctx) { return some_kernel_var; }
                char LICENSE[] SEC("license") = "GPL";
                """);
        assertObjectError(obj, "undefined symbol some_kernel_var");
    }

    @Test
    void staticProgramsAreRefusedAsLibbpfDoes() {
        assertObjectError(BpfObjects.compile("staticprog", """
                #include "ublk_bpf.h"
                SEC("xdp") static int hidden(struct xdp_md *ctx) { return XDP_PASS; }
                SEC("xdp") int visible(struct xdp_md *ctx) { return hidden(ctx); }
                char LICENSE[] SEC("license") = "GPL";
                """), "program hidden in section 'xdp' is static");
    }

    @Test
    void unknownSectionAndMapType() {
        assertObjectError(BpfObjects.compile("kprobe", """
                #include "ublk_bpf.h"
                SEC("kprobe/do_sys_open") int prog(void *ctx) { return 0; }
                char LICENSE[] SEC("license") = "GPL";
                """), "section 'kprobe/do_sys_open': unknown program type");
        assertObjectError(BpfObjects.compile("maptype", """
                #include "ublk_bpf.h"
                struct { __uint(type, 99); __uint(max_entries, 1); __type(key, int); __type(value, int); } weird SEC(".maps");
                SEC("syscall") int prog(void *ctx) { int k = 0; return bpf_map_lookup_elem(&weird, &k) != 0; }
                char LICENSE[] SEC("license") = "GPL";
                """), "map weird: unsupported map type 99");
        assertObjectError(BpfObjects.compile("mapsize", """
                #include "ublk_bpf.h"
                struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1); __uint(key_size, 8); __type(key, int); __type(value, int); } sized SEC(".maps");
                SEC("syscall") int prog(void *ctx) { int k = 0; return bpf_map_lookup_elem(&sized, &k) != 0; }
                char LICENSE[] SEC("license") = "GPL";
                """), "map sized: key size 4 conflicts with 8");
    }

    @Test
    void corruptBtfIsABtfException() {
        byte[] obj = BpfObjects.bundledBytes("test/xdp").clone();
        Section btf = ElfFile.parse(obj).section(".BTF").orElseThrow();
        obj[(int) btf.offset()] = 0x12;
        var e = assertThrows(dev.ublkctl.bpf.btf.BtfException.class, () -> BpfObject.parse(obj, "xdp"));
        assertTrue(e.getMessage().startsWith("xdp: bad BTF magic"), e.getMessage());
    }

    @Test
    void truncatedObjectIsAnElfException() {
        byte[] obj = BpfObjects.bundledBytes("null");
        var e = assertThrows(dev.ublkctl.bpf.elf.ElfException.class, () -> BpfObject.parse(java.util.Arrays.copyOf(obj, obj.length / 2), "null"));
        assertTrue(e.getMessage().startsWith("null: "), e.getMessage());
    }
}
