package dev.ublkctl.bpf.btf;

import dev.ublkctl.bpf.btf.BtfType.*;
import dev.ublkctl.bpf.elf.ElfFile;
import dev.ublkctl.bpf.testing.BpfObjects;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class BtfTest {

    static Btf btfOf(byte[] obj) {
        ElfFile elf = ElfFile.parse(obj);
        return Btf.parse(elf.contents(elf.section(".BTF").orElseThrow()));
    }

    @Test
    void readsTheRfcTypesFromTheNullObject() {
        Btf btf = btfOf(BpfObjects.bundledBytes("null"));
        int ops = btf.find(BtfKind.STRUCT, "ublk_bpf_ops").orElseThrow();
        Struct s = (Struct) btf.type(ops);
        assertEquals(List.of("id", "queue_io_cmd", "queue_io_cmd_daemon", "release_io_cmd", "attach_dev", "detach_dev"),
                s.members().stream().map(Member::name).toList());
        assertEquals(48, btf.sizeOf(ops));
        assertEquals(64, s.members().get(1).bitOffset());
        // queue_io_cmd is a typedef'd pointer to a function prototype
        assertInstanceOf(FuncProto.class, btf.resolved(((Ptr) btf.resolved(s.members().get(1).type())).target()));
        int iod = btf.find(BtfKind.STRUCT, "ublksrv_io_desc").orElseThrow();
        assertEquals(24, btf.sizeOf(iod));
        int io = btf.find(BtfKind.STRUCT, "ublk_bpf_io").orElseThrow();
        assertEquals(40, btf.sizeOf(io));
        assertEquals("struct ublk_bpf_io", btf.typeName(io));
        int fn = btf.find(BtfKind.FUNC, "null_queue_io").orElseThrow();
        assertEquals(1, ((Func) btf.type(fn)).linkage());
        assertTrue(btf.find(BtfKind.DATASEC, ".maps").isPresent());
        assertTrue(btf.find(BtfKind.DATASEC, ".ksyms").isPresent());
    }

    @Test
    void readsDeclAndTypeTagsFromClang() {
        byte[] obj = BpfObjects.compile("tags", """
                #include "ublk_bpf.h"
                struct tagged {
                    int a __attribute__((btf_decl_tag("member_tag")));
                    int __attribute__((btf_type_tag("user"))) *p;
                    float f;
                } __attribute__((btf_decl_tag("struct_tag")));
                struct tagged g_tagged;
                SEC("syscall") int prog(void *ctx) { return g_tagged.a + (g_tagged.p != 0); }
                char LICENSE[] SEC("license") = "GPL";
                """);
        Btf btf = btfOf(obj);
        int tagged = btf.find(BtfKind.STRUCT, "tagged").orElseThrow();
        List<DeclTag> tags = btf.types().stream().filter(t -> t instanceof DeclTag).map(t -> (DeclTag) t).toList();
        assertTrue(tags.contains(new DeclTag("member_tag", tagged, 0)), tags::toString);
        assertTrue(tags.contains(new DeclTag("struct_tag", tagged, -1)), tags::toString);
        assertTrue(btf.types().stream().anyMatch(t -> t instanceof TypeTag tt && tt.name().equals("user")));
        assertTrue(btf.types().stream().anyMatch(t -> t instanceof FloatType f && f.name().equals("float") && f.size() == 4));
        // the pointer member's type name follows the tag to the pointee
        Struct s = (Struct) btf.type(tagged);
        assertEquals("int *", btf.typeName(s.members().get(1).type()));
    }

    @Test
    void handBuiltEnum64FloatAndRoundTrip() {
        RawBtf raw = new RawBtf();
        int u64 = raw.intType("unsigned long long", 8, 0);
        int e64 = raw.type("big", BtfKind.ENUM64, 2, false, 8);
        raw.u32(raw.str("SMALL")).u32(1).u32(0);
        raw.u32(raw.str("HUGE")).u32(0).u32(0x80000000);
        int sgn = raw.type("sgn", BtfKind.ENUM, 1, true, 4);
        raw.u32(raw.str("MINUS")).u32(-5);
        int dbl = raw.type("double", BtfKind.FLOAT, 0, false, 8);
        int arr = raw.type("", BtfKind.ARRAY, 0, false, 0);
        raw.u32(u64).u32(u64).u32(3);
        int td = raw.type("u64_t", BtfKind.TYPEDEF, 0, false, u64);
        int cst = raw.type("", BtfKind.CONST, 0, false, td);
        Btf btf = Btf.parse(raw.bytes());
        EnumType e = (EnumType) btf.type(e64);
        assertTrue(e.is64());
        assertEquals(0x8000000000000000L, e.values().get(1).value());
        assertEquals(-5, ((EnumType) btf.type(sgn)).values().get(0).value());
        assertEquals(8, btf.sizeOf(dbl));
        assertEquals(24, btf.sizeOf(arr));
        assertEquals(u64, btf.resolve(cst));
        assertEquals("const u64_t", btf.typeName(cst));
        Btf again = Btf.parse(btf.encode());
        assertEquals(btf.types(), again.types());
    }

    @Test
    void encodeRoundTripsRealBtf() {
        for (String name : List.of("null", "stripe", "test/xdp")) {
            Btf btf = btfOf(BpfObjects.bundledBytes(name));
            assertEquals(btf.types(), Btf.parse(btf.encode()).types(), name);
        }
    }

    @Test
    void rejectsCorruptBtf() {
        byte[] good = btfOf(BpfObjects.bundledBytes("test/sockfilter")).encode();
        assertThrowsWith(() -> Btf.parse(Arrays.copyOf(good, 10)), "truncated BTF header");
        byte[] magic = good.clone();
        magic[0] = 0;
        assertThrowsWith(() -> Btf.parse(magic), "bad BTF magic");
        byte[] strOut = good.clone();
        ByteBuffer.wrap(strOut).order(ByteOrder.LITTLE_ENDIAN).putInt(20, good.length); // str_len
        assertThrowsWith(() -> Btf.parse(strOut), "outside the BTF data");
        byte[] typeCut = good.clone();
        ByteBuffer.wrap(typeCut).order(ByteOrder.LITTLE_ENDIAN).putInt(12, 30); // type_len: cut mid-type
        assertThrowsWith(() -> Btf.parse(typeCut), "truncated");
        RawBtf dangling = new RawBtf();
        dangling.type("", BtfKind.PTR, 0, false, 42);
        assertThrowsWith(() -> Btf.parse(dangling.bytes()), "refers to type 42, out of range");
        RawBtf badName = new RawBtf();
        badName.types_name_off(5000);
        assertThrowsWith(() -> Btf.parse(badName.bytes()), "outside the string table");
        RawBtf badKind = new RawBtf();
        badKind.type("", BtfKind.INT, 0, false, 4);
        badKind.u32(32);
        ByteBuffer b = ByteBuffer.wrap(badKind.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        byte[] k = b.array();
        ByteBuffer.wrap(k).order(ByteOrder.LITTLE_ENDIAN).putInt(24 + 4, 25 << 24);
        assertThrowsWith(() -> Btf.parse(k), "unknown kind 25");
        RawBtf loop = new RawBtf();
        loop.type("a", BtfKind.TYPEDEF, 0, false, 2);
        loop.type("b", BtfKind.TYPEDEF, 0, false, 1);
        Btf looped = Btf.parse(loop.bytes());
        assertThrowsWith(() -> looped.sizeOf(1), "loop");
    }

    static void assertThrowsWith(org.junit.jupiter.api.function.Executable e, String part) {
        BtfException ex = assertThrows(BtfException.class, e);
        assertTrue(ex.getMessage().contains(part), () -> "message '" + ex.getMessage() + "' lacks '" + part + "'");
    }
}
