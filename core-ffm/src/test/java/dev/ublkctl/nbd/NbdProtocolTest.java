package dev.ublkctl.nbd;

import dev.ublkctl.engine.Device;
import dev.ublkctl.engine.DeviceConfig;
import dev.ublkctl.engine.Engine;
import dev.ublkctl.target.TargetConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The server against a hand-written client that can also misbehave: malformed negotiation, unknown
 * options and commands, requests past the end, 200 clients at once, clients that never speak.
 * The server must answer what the protocol says and keep serving everyone else.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdProtocolTest {
    private static final int SIZE = 4 << 20;
    @TempDir Path dir;
    private Engine engine;
    private Device dev;
    private byte[] content;
    private NbdServer server;
    private final CopyOnWriteArrayList<String> log = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        Path f = NbdExportTest.randomFile(dir, "disk.img", SIZE, 7);
        content = Files.readAllBytes(f);
        engine = Engine.emulated();
        dev = engine.add(DeviceConfig.of(new TargetConfig.Loop(f)).withQueues(2));
        server = serve("disk", false);
    }

    private NbdServer serve(String name, boolean ro) throws IOException {
        return NbdServer.start(UnixDomainSocketAddress.of(dir.resolve(name + ".sock")),
                new NbdServer.Export(name, dev.block(), ro, null), log::add);
    }

    @AfterEach
    void stop() {
        if (server != null) server.close();
        if (engine != null) engine.close();
    }

    /** A raw protocol client. */
    final class Raw implements AutoCloseable {
        final SocketChannel ch;

        Raw(String sock) throws IOException {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(dir.resolve(sock + ".sock")));
        }

        Raw() throws IOException { this("disk"); }

        ByteBuffer read(int n) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining()) if (ch.read(b) < 0) throw new EOFException("server closed after " + b.position() + " of " + n + " bytes");
            return b.flip();
        }

        void write(ByteBuffer b) throws IOException { while (b.hasRemaining()) ch.write(b); }

        /** Reads the greeting and sends client flags. */
        Raw hello(int clientFlags) throws IOException {
            ByteBuffer g = read(18);
            assertEquals(Nbd.NBDMAGIC, g.getLong());
            assertEquals(Nbd.IHAVEOPT, g.getLong());
            assertEquals(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES, g.getShort());
            write(ByteBuffer.allocate(4).putInt(clientFlags).flip());
            return this;
        }

        void option(int opt, byte[] data) throws IOException {
            write(ByteBuffer.allocate(16 + data.length).putLong(Nbd.IHAVEOPT).putInt(opt).putInt(data.length).put(data).flip());
        }

        /** One option reply: {type, payload}. */
        Object[] reply(int opt) throws IOException {
            ByteBuffer h = read(20);
            assertEquals(Nbd.OPT_REPLY_MAGIC, h.getLong());
            assertEquals(opt, h.getInt());
            int type = h.getInt();
            return new Object[]{type, read(h.getInt())};
        }

        byte[] goData(String name) {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            return ByteBuffer.allocate(4 + n.length + 2).putInt(n.length).put(n).putShort((short) 0).array();
        }

        /** NBD_OPT_GO: returns the transmission flags. */
        int go(String name) throws IOException {
            option(Nbd.OPT_GO, goData(name));
            int flags = -1;
            for (;;) {
                Object[] r = reply(Nbd.OPT_GO);
                int type = (int) r[0];
                if (type == Nbd.REP_ACK) return flags;
                assertEquals(Nbd.REP_INFO, type);
                ByteBuffer d = (ByteBuffer) r[1];
                if (d.getShort() == Nbd.INFO_EXPORT) {
                    assertEquals(SIZE, d.getLong());
                    flags = d.getShort();
                }
            }
        }

        void request(int type, int flags, long cookie, long off, int len, byte[] data) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(28 + (data == null ? 0 : data.length)).putInt(Nbd.REQUEST_MAGIC)
                    .putShort((short) flags).putShort((short) type).putLong(cookie).putLong(off).putInt(len);
            if (data != null) b.put(data);
            write(b.flip());
        }

        /** A simple reply: its error, data read if {@code dataLen} > 0 and no error. */
        int simple(long cookie, byte[] into) throws IOException {
            ByteBuffer h = read(16);
            assertEquals(Nbd.SIMPLE_REPLY_MAGIC, h.getInt());
            int err = h.getInt();
            assertEquals(cookie, h.getLong());
            if (err == 0 && into != null) read(into.length).get(into);
            return err;
        }

        /** Whether the server closed the connection: what it sent before that (a greeting) is skipped. */
        boolean closedByServer() {
            try {
                ByteBuffer b = ByteBuffer.allocate(4096);
                for (int i = 0; i < 16; i++) {
                    b.clear();
                    if (ch.read(b) < 0) return true;
                }
                return false;
            } catch (IOException e) {
                return true;
            }
        }

        @Override public void close() throws IOException { ch.close(); }
    }

    private void stillServes() throws IOException {
        try (Raw c = new Raw().hello(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES)) {
            c.go("disk");
            byte[] got = new byte[4096];
            c.request(Nbd.CMD_READ, 0, 5, 8192, 4096, null);
            assertEquals(0, c.simple(5, got));
            assertArrayEquals(Arrays.copyOfRange(content, 8192, 8192 + 4096), got);
        }
    }

    @Test
    void malformedNegotiationClosesOnlyThatConnection() throws Exception {
        try (Raw c = new Raw().hello(0xffff_ff00)) {   // unknown client flags
            assertTrue(c.closedByServer());
        }
        try (Raw c = new Raw().hello(Nbd.FLAG_C_FIXED_NEWSTYLE)) {   // bad option magic
            c.write(ByteBuffer.allocate(16).putLong(0x1234).putInt(Nbd.OPT_GO).putInt(0).flip());
            assertTrue(c.closedByServer());
        }
        try (Raw c = new Raw().hello(Nbd.FLAG_C_FIXED_NEWSTYLE)) {   // an option claiming 2 GiB
            c.write(ByteBuffer.allocate(16).putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_GO).putInt(Integer.MAX_VALUE).flip());
            assertTrue(c.closedByServer());
        }
        try (Raw c = new Raw().hello(Nbd.FLAG_C_FIXED_NEWSTYLE)) {   // a name length past the option's end
            c.option(Nbd.OPT_GO, ByteBuffer.allocate(8).putInt(1000).putShort((short) 0).putShort((short) 0).array());
            assertEquals(Nbd.REP_ERR_INVALID, (int) c.reply(Nbd.OPT_GO)[0]);
            assertEquals(Nbd.TF_HAS_FLAGS, c.go("disk") & Nbd.TF_HAS_FLAGS, "negotiation goes on after an error reply");
        }
        try (Raw c = new Raw()) {   // gone in the middle of the greeting
            c.read(4);
        }
        stillServes();
        assertTrue(log.stream().anyMatch(l -> l.contains("unknown client flags")), log.toString());
    }

    @Test
    void unknownOptionsGetErrorRepliesThenGoWorks() throws Exception {
        try (Raw c = new Raw().hello(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES)) {
            c.option(99, new byte[]{1, 2, 3});
            assertEquals(Nbd.REP_ERR_UNSUP, (int) c.reply(99)[0]);
            c.option(Nbd.OPT_STARTTLS, new byte[0]);
            assertEquals(Nbd.REP_ERR_POLICY, (int) c.reply(Nbd.OPT_STARTTLS)[0]);
            c.option(Nbd.OPT_INFO, c.goData("nosuch"));
            Object[] r = c.reply(Nbd.OPT_INFO);
            assertEquals(Nbd.REP_ERR_UNKNOWN, (int) r[0]);
            assertTrue(StandardCharsets.UTF_8.decode((ByteBuffer) r[1]).toString().contains("nosuch"));
            c.option(Nbd.OPT_LIST, new byte[0]);
            Object[] s = c.reply(Nbd.OPT_LIST);
            assertEquals(Nbd.REP_SERVER, (int) s[0]);
            ByteBuffer d = (ByteBuffer) s[1];
            byte[] n = new byte[d.getInt()];
            d.get(n);
            assertEquals("disk", new String(n, StandardCharsets.UTF_8));
            assertEquals(Nbd.REP_ACK, (int) c.reply(Nbd.OPT_LIST)[0]);
            int flags = c.go("disk");
            assertNotEquals(0, flags & Nbd.TF_CAN_MULTI_CONN);
            assertEquals(0, flags & Nbd.TF_READ_ONLY);
            c.request(Nbd.CMD_DISC, 0, 1, 0, 0, null);
            assertTrue(c.closedByServer());
        }
        try (Raw c = new Raw().hello(Nbd.FLAG_C_FIXED_NEWSTYLE)) {
            c.option(Nbd.OPT_ABORT, new byte[0]);
            assertEquals(Nbd.REP_ACK, (int) c.reply(Nbd.OPT_ABORT)[0]);
            assertTrue(c.closedByServer());
        }
        // NBD_OPT_EXPORT_NAME, without NO_ZEROES: size, flags and 124 zero bytes
        try (Raw c = new Raw().hello(Nbd.FLAG_C_FIXED_NEWSTYLE)) {
            c.option(Nbd.OPT_EXPORT_NAME, "disk".getBytes(StandardCharsets.UTF_8));
            ByteBuffer b = c.read(134);
            assertEquals(SIZE, b.getLong());
            assertNotEquals(0, b.getShort() & Nbd.TF_SEND_FLUSH);
            byte[] got = new byte[512];
            c.request(Nbd.CMD_READ, 0, 9, 0, 512, null);
            assertEquals(0, c.simple(9, got));
            assertArrayEquals(Arrays.copyOf(content, 512), got);
        }
    }

    @Test
    void badRequestsGetTheProtocolsErrorsAndTheConnectionGoesOn() throws Exception {
        try (Raw c = new Raw().hello(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES)) {
            c.go("disk");
            c.request(Nbd.CMD_READ, 0, 1, SIZE - 4096, 8192, null);
            assertEquals(Nbd.EINVAL, c.simple(1, null), "read past the end");
            c.request(Nbd.CMD_WRITE, 0, 2, SIZE, 4096, new byte[4096]);
            assertEquals(Nbd.ENOSPC, c.simple(2, null), "write past the end");
            c.request(Nbd.CMD_READ, 0, 3, 100, 512, null);
            assertEquals(Nbd.EINVAL, c.simple(3, null), "misaligned read");
            c.request(42, 0, 4, 0, 0, null);
            assertEquals(Nbd.EINVAL, c.simple(4, null), "unknown command");
            c.request(Nbd.CMD_READ, 0, 5, 0, 64 << 20, null);
            assertEquals(Nbd.EINVAL, c.simple(5, null), "read larger than the maximum block size");
            c.request(Nbd.CMD_TRIM, 0, 6, -4096L, 4096, null);
            assertNotEquals(0, c.simple(6, null), "trim at a negative offset");
            // and good requests still work: a FUA write then a read
            byte[] data = new byte[8192];
            Arrays.fill(data, (byte) 0x3c);
            c.request(Nbd.CMD_WRITE, Nbd.CMD_FLAG_FUA, 7, 65536, 8192, data);
            assertEquals(0, c.simple(7, null));
            byte[] got = new byte[8192];
            c.request(Nbd.CMD_READ, 0, 8, 65536, 8192, null);
            assertEquals(0, c.simple(8, got));
            assertArrayEquals(data, got);
            c.request(Nbd.CMD_WRITE_ZEROES, 0, 9, 65536, 4096, null);
            assertEquals(0, c.simple(9, null));
            c.request(Nbd.CMD_FLUSH, 0, 10, 0, 0, null);
            assertEquals(0, c.simple(10, null));
            c.request(Nbd.CMD_READ, 0, 11, 65536, 8192, null);
            assertEquals(0, c.simple(11, got));
            assertEquals(0, got[4095]);
            assertEquals(0x3c, got[4096]);
        }
        try (Raw c = new Raw().hello(Nbd.FLAG_C_FIXED_NEWSTYLE)) {   // a write of 64 MiB is beyond what the server reads
            c.go("disk");
            c.request(Nbd.CMD_WRITE, 0, 1, 0, 64 << 20, null);
            assertTrue(c.closedByServer());
        }
        stillServes();
    }

    @Test
    void structuredRepliesCarryDataAndErrors() throws Exception {
        try (Raw c = new Raw().hello(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES)) {
            c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(Nbd.REP_ACK, (int) c.reply(Nbd.OPT_STRUCTURED_REPLY)[0]);
            c.go("disk");
            c.request(Nbd.CMD_READ, 0, 77, 4096, 4096, null);
            ByteBuffer h = c.read(20);
            assertEquals(Nbd.STRUCTURED_REPLY_MAGIC, h.getInt());
            assertEquals(Nbd.REPLY_FLAG_DONE, h.getShort());
            assertEquals(Nbd.REPLY_TYPE_OFFSET_DATA, h.getShort());
            assertEquals(77, h.getLong());
            assertEquals(8 + 4096, h.getInt());
            ByteBuffer p = c.read(8 + 4096);
            assertEquals(4096, p.getLong());
            byte[] got = new byte[4096];
            p.get(got);
            assertArrayEquals(Arrays.copyOfRange(content, 4096, 8192), got);
            c.request(Nbd.CMD_READ, 0, 78, SIZE, 4096, null);
            h = c.read(20);
            assertEquals(Nbd.STRUCTURED_REPLY_MAGIC, h.getInt());
            assertEquals(Nbd.REPLY_FLAG_DONE, h.getShort());
            assertEquals(Nbd.REPLY_TYPE_ERROR, h.getShort() & 0xffff);
            assertEquals(78, h.getLong());
            int len = h.getInt();
            assertEquals(Nbd.EINVAL, c.read(len).getInt());
            c.request(Nbd.CMD_FLUSH, 0, 79, 0, 0, null);
            h = c.read(20);
            h.getInt();
            assertEquals(Nbd.REPLY_FLAG_DONE, h.getShort());
            assertEquals(Nbd.REPLY_TYPE_NONE, h.getShort());
            assertEquals(79, h.getLong());
            assertEquals(0, h.getInt());
        }
    }

    @Test
    void readOnlyExportAnswersEpermAndKeepsTheData() throws Exception {
        try (NbdServer ro = serve("ro", true); Raw c = new Raw("ro").hello(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES)) {
            assertNotEquals(0, c.go("ro") & Nbd.TF_READ_ONLY);
            c.request(Nbd.CMD_WRITE, 0, 1, 0, 4096, new byte[4096]);
            assertEquals(Nbd.EPERM, c.simple(1, null));
            c.request(Nbd.CMD_TRIM, 0, 2, 0, 4096, null);
            assertEquals(Nbd.EPERM, c.simple(2, null));
            byte[] got = new byte[4096];
            c.request(Nbd.CMD_READ, 0, 3, 0, 4096, null);
            assertEquals(0, c.simple(3, got));
            assertArrayEquals(Arrays.copyOf(content, 4096), got, "the refused write's payload was read and dropped");
        }
    }

    @Test
    void twoHundredClientsAtOnceWhileSomeNeverSpeak() throws Exception {
        List<Raw> silent = new ArrayList<>();
        silent.add(new Raw());   // connects, never reads or sends
        Raw half = new Raw().hello(Nbd.FLAG_C_FIXED_NEWSTYLE);
        half.write(ByteBuffer.allocate(8).putLong(Nbd.IHAVEOPT).flip().limit(6));   // half an option header, then silence
        silent.add(half);
        Raw idle = new Raw().hello(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES);
        idle.go("disk");   // in transmission, never sends a request
        silent.add(idle);
        int n = 200;
        List<Thread> ts = new ArrayList<>();
        CopyOnWriteArrayList<Throwable> failures = new CopyOnWriteArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = i;
            ts.add(Thread.ofVirtual().start(() -> {
                try (Raw c = new Raw().hello(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES)) {
                    c.go("disk");
                    long off = (long) (k % 64) * 65536;
                    byte[] got = new byte[16384];
                    c.request(Nbd.CMD_READ, 0, k, off, got.length, null);
                    assertEquals(0, c.simple(k, got));
                    assertArrayEquals(Arrays.copyOfRange(content, (int) off, (int) off + got.length), got);
                    c.request(Nbd.CMD_DISC, 0, 0, 0, 0, null);
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }
        for (Thread t : ts) t.join();
        assertEquals(List.of(), failures);
        assertTrue(server.connectionsServed() >= n + 3);
        stillServes();
        for (Raw r : silent) assertTrue(r.ch.isOpen());
        server.close();   // unexport drops the silent ones too
        for (Raw r : silent) {
            assertTrue(r.closedByServer());
            r.close();
        }
        server = null;
    }
}
