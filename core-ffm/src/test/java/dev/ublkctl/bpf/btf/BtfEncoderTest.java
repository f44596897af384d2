package dev.ublkctl.bpf.btf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ublkctl.bpf.testing.BpfObjects;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.*;

/** What map dump prints, map update and --map write back: the encoder is the formatter's inverse. */
class BtfEncoderTest {
    private static final ObjectMapper M = new ObjectMapper();

    private static Btf sample() {
        byte[] o = BpfObjects.compile("enc", """
                #include "ublk_bpf.h"
                enum color { RED = 1, GREEN = 2, BLUE = -3 };
                struct stripe { unsigned char chunk_shift; unsigned char nr_backfiles; int fds[4]; };
                struct sample {
                    char name[8];
                    enum color c;
                    union { unsigned int as_u32; unsigned short as_u16; };
                    struct stripe s;
                    unsigned long long big;
                    bool ok;
                };
                struct sample g_sample;
                SEC("syscall") int prog(void *ctx) { return g_sample.c; }
                char LICENSE[] SEC("license") = "GPL";
                """);
        return BtfTest.btfOf(o);
    }

    @Test
    void writesKublksStripeValueAsCompiled() throws Exception {
        Btf btf = sample();
        int id = btf.find(BtfKind.STRUCT, "stripe").orElseThrow();
        byte[] v = new BtfEncoder(btf).encode(id, M.readTree("{\"chunk_shift\":16,\"nr_backfiles\":2,\"fds\":[5,6]}"));
        ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(20, v.length);
        assertEquals(16, b.get(0));
        assertEquals(2, b.get(1));
        assertEquals(5, b.getInt(4));
        assertEquals(6, b.getInt(8));
        assertEquals(0, b.getInt(12), "elements left out are zero");
    }

    @Test
    void roundTripsThroughTheFormatter() throws Exception {
        Btf btf = sample();
        int id = btf.find(BtfKind.STRUCT, "sample").orElseThrow();
        JsonNode in = M.readTree("""
                {"name":"ublk","c":"BLUE","as_u32":65538,"s":{"chunk_shift":12,"nr_backfiles":4,"fds":[3,4,5,-1]},
                 "big":18446744073709551615,"ok":true}""");
        byte[] v = new BtfEncoder(btf).encode(id, in);
        JsonNode out = new BtfFormatter(btf).format(id, v);
        assertEquals("ublk", out.get("name").asText());
        assertEquals("BLUE", out.get("c").asText());
        assertEquals(65538, out.get("as_u32").asInt());
        assertEquals(2, out.get("as_u16").asInt(), "the union's other member sees the same bytes");
        assertEquals(in.get("s").toString(), out.get("s").toString());
        assertEquals("18446744073709551615", out.get("big").asText());
        assertTrue(out.get("ok").asBoolean());
    }

    @Test
    void refusesWhatTheTypeCannotHold() throws Exception {
        Btf btf = sample();
        BtfEncoder e = new BtfEncoder(btf);
        int id = btf.find(BtfKind.STRUCT, "stripe").orElseThrow();
        assertTrue(assertThrows(BtfException.class, () -> e.encode(id, M.readTree("{\"chunk\":1}")))
                .getMessage().contains("has no member 'chunk'"));
        assertTrue(assertThrows(BtfException.class, () -> e.encode(id, M.readTree("{\"chunk_shift\":256}")))
                .getMessage().contains("does not fit in 1 bytes"));
        assertTrue(assertThrows(BtfException.class, () -> e.encode(id, M.readTree("{\"fds\":[1,2,3,4,5]}")))
                .getMessage().contains("5 elements for an array of 4"));
        int sid = btf.find(BtfKind.STRUCT, "sample").orElseThrow();
        assertTrue(assertThrows(BtfException.class, () -> e.encode(sid, M.readTree("{\"c\":\"PURPLE\"}")))
                .getMessage().contains("not a value of enum color"));
        assertTrue(assertThrows(BtfException.class, () -> e.encode(sid, M.readTree("{\"name\":\"much too long\"}")))
                .getMessage().contains("longer than 8 bytes"));
    }
}
