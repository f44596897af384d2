package dev.ublkctl.bpf.btf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.MapSpec;
import dev.ublkctl.bpf.testing.BpfObjects;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.*;

class BtfFormatterTest {

    @Test
    void formatsMapValuesLikeBpftool() {
        BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes("null"), "null");
        BtfFormatter f = new BtfFormatter(obj.btf());
        MapSpec qstats = obj.map("qstats").orElseThrow();
        ByteBuffer v = ByteBuffer.allocate(qstats.valueSize()).order(ByteOrder.LITTLE_ENDIAN);
        v.putLong(5).putLong(2).putLong(3).putLong(4096).putLong(0).putLong(-1L).putLong(7);
        JsonNode json = f.format(qstats.valueTypeId(), v.array());
        assertEquals(5, json.get("queued").asLong());
        assertEquals(4096, json.get("bytes").asLong());
        assertEquals("18446744073709551615", json.get("aio_submitted").asText()); // u64 max stays unsigned
        assertEquals(7, json.get("aio_completed").asLong());
        assertEquals(7, json.size());
        // a global data map's value is its DATASEC: variables by name
        MapSpec rodata = obj.map(".rodata").orElseThrow();
        assertEquals("{\"default_split_bytes\":4096}", f.toJson(rodata.valueTypeId(), rodata.initialValue()));
        MapSpec data = obj.map(".data").orElseThrow();
        assertEquals("{\"null_version\":1}", f.toJson(data.valueTypeId(), data.initialValue()));
    }

    @Test
    void stringsEnumsBitfieldsAnonymousUnionsAndArrays() {
        byte[] o = BpfObjects.compile("fmt", """
                #include "ublk_bpf.h"
                enum color { RED = 1, GREEN = 2, BLUE = -3 };
                struct sample {
                    char name[8];
                    unsigned char raw[3];
                    enum color c;
                    enum color unknown;
                    int neg;
                    unsigned int lo : 3, hi : 5;
                    union { unsigned int as_u32; unsigned short as_u16; };
                    short arr[2];
                    bool ok;
                    struct ublksrv_io_desc iod;
                };
                struct sample g_sample;
                SEC("syscall") int prog(void *ctx) { return g_sample.neg; }
                char LICENSE[] SEC("license") = "GPL";
                """);
        Btf btf = BtfTest.btfOf(o);
        int id = btf.find(BtfKind.STRUCT, "sample").orElseThrow();
        ByteBuffer b = ByteBuffer.allocate((int) btf.sizeOf(id)).order(ByteOrder.LITTLE_ENDIAN);
        b.put("ublk".getBytes()).put(new byte[4]);            // name
        b.put(new byte[] {1, (byte) 0xff, 3});                   // raw: not printable
        b.put((byte) 0);                                         // padding
        b.putInt(-3);                                            // c = BLUE
        b.putInt(42);                                            // unknown value
        b.putInt(-7);                                            // neg
        b.putInt(5 | 17 << 3);                                   // lo = 5, hi = 17
        b.putInt(0x10002);                                       // as_u32 / as_u16
        b.putShort((short) -1).putShort((short) 9);              // arr
        b.put((byte) 1).put(new byte[3]);                        // ok + padding to 8
        b.putInt(1 | 0x2000).putInt(16).putLong(2048).putLong(0); // iod: WRITE|FUA, 16 sectors at 2048
        JsonNode j = new BtfFormatter(btf).format(id, b.array());
        assertEquals("ublk", j.get("name").asText());
        assertEquals("[1,255,3]", j.get("raw").toString());
        assertEquals("BLUE", j.get("c").asText());
        assertEquals(42, j.get("unknown").asInt());
        assertEquals(-7, j.get("neg").asInt());
        assertEquals(5, j.get("lo").asInt());
        assertEquals(17, j.get("hi").asInt());
        assertEquals(0x10002, j.get("as_u32").asInt());
        assertEquals(2, j.get("as_u16").asInt());
        assertEquals("[-1,9]", j.get("arr").toString());
        assertTrue(j.get("ok").asBoolean());
        assertEquals(0x2001, j.get("iod").get("op_flags").asInt());
        assertEquals(16, j.get("iod").get("nr_sectors").asInt());
        assertEquals(16, j.get("iod").get("nr_zones").asInt());
        assertEquals(2048, j.get("iod").get("start_sector").asLong());
    }

    @Test
    void entriesLikeBpftoolMapDump() {
        BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes("null"), "null");
        BtfFormatter f = new BtfFormatter(obj.btf());
        MapSpec bounce = obj.map("bounce").orElseThrow();
        byte[] key = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong((3L << 32) | (1 << 16) | 7).array();
        byte[] value = {1, 0, 0, 0};
        assertEquals("{\"key\":12884967431,\"value\":1}", f.entry(bounce.keyTypeId(), key, bounce.valueTypeId(), value).toString());
        // no type, or a size mismatch: raw bytes as bpftool prints them
        assertEquals("{\"key\":[\"0x07\",\"0x00\"],\"value\":1}", f.entry(0, new byte[] {7, 0}, bounce.valueTypeId(), value).toString());
        assertEquals("[\"0x01\",\"0x00\",\"0x00\",\"0x00\",\"0x02\"]", f.formatOrHex(bounce.valueTypeId(), new byte[] {1, 0, 0, 0, 2}).toString());
        JsonNode per = f.perCpuEntry(bounce.keyTypeId(), key, bounce.valueTypeId(), new byte[] {5, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0}, 4, 8);
        assertEquals(2, per.get("values").size());
        assertEquals(1, per.get("values").get(1).get("cpu").asInt());
        assertEquals(6, per.get("values").get(1).get("value").asInt());
    }

    @Test
    void shortBufferIsAClearError() {
        BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes("null"), "null");
        MapSpec qstats = obj.map("qstats").orElseThrow();
        BtfException e = assertThrows(BtfException.class, () -> new BtfFormatter(obj.btf()).format(qstats.valueTypeId(), new byte[10]));
        assertTrue(e.getMessage().contains("needs 56 bytes"), e.getMessage());
    }
}
