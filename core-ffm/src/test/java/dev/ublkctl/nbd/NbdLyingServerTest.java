package dev.ublkctl.nbd;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.ublk.BlockIoException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The client against a small fake server that lies: replies with cookies it was never sent,
 * replies cut short, lengths far too large, a greeting that is not NBD, an export whose size
 * changes across a reconnect. Every case ends in a clear error, never a hang (the class timeout
 * is the guard) and never an I/O that silently succeeds.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NbdLyingServerTest {
    private static final long SIZE = 1 << 20;
    @TempDir Path dir;
    private ServerSocketChannel listener;
    private final AtomicInteger accepted = new AtomicInteger();

    /** What the fake does on one connection; {@code n} counts connections from 1. */
    interface Script {
        void run(SocketChannel ch, int n) throws IOException;
    }

    private NbdUri fake(Script script) throws IOException {
        Path sock = dir.resolve("fake.sock");
        listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(sock));
        Thread.ofVirtual().start(() -> {
            try {
                for (;;) {
                    SocketChannel ch = listener.accept();
                    int n = accepted.incrementAndGet();
                    Thread.ofVirtual().start(() -> {
                        try (ch) {
                            script.run(ch, n);
                        } catch (IOException e) {
                            // the client hung up
                        }
                    });
                }
            } catch (IOException e) {
                // closed
            }
        });
        return NbdUri.unix(sock, "x");
    }

    @AfterEach
    void close() throws IOException {
        if (listener != null) listener.close();
    }

    private static ByteBuffer read(SocketChannel ch, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) if (ch.read(b) < 0) throw new EOFException();
        return b.flip();
    }

    private static void write(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** An honest negotiation up to NBD_OPT_GO's ACK, for an export of {@code size} bytes. */
    private static void negotiate(SocketChannel ch, long size) throws IOException {
        write(ch, ByteBuffer.allocate(18).putLong(Nbd.NBDMAGIC).putLong(Nbd.IHAVEOPT)
                .putShort((short) (Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES)).flip());
        read(ch, 4);
        ByteBuffer h = read(ch, 16);
        h.getLong();
        int opt = h.getInt();
        read(ch, h.getInt());
        assertEquals(Nbd.OPT_GO, opt);
        optReply(ch, Nbd.REP_INFO, ByteBuffer.allocate(12).putShort((short) Nbd.INFO_EXPORT).putLong(size)
                .putShort((short) (Nbd.TF_HAS_FLAGS | Nbd.TF_SEND_FLUSH)).flip());
        optReply(ch, Nbd.REP_ACK, ByteBuffer.allocate(0));
    }

    private static void optReply(SocketChannel ch, int type, ByteBuffer data) throws IOException {
        write(ch, ByteBuffer.allocate(20 + data.remaining()).putLong(Nbd.OPT_REPLY_MAGIC).putInt(Nbd.OPT_GO).putInt(type)
                .putInt(data.remaining()).put(data).flip());
    }

    /** Reads one request: {cookie, length}. */
    private static long[] request(SocketChannel ch) throws IOException {
        ByteBuffer r = read(ch, 28);
        r.getInt();
        r.getShort();
        int type = r.getShort();
        long cookie = r.getLong();
        r.getLong();
        int len = r.getInt();
        if (type == Nbd.CMD_WRITE) read(ch, len);
        return new long[]{cookie, len};
    }

    /** A 4 KiB read through a client that reconnects once; the errno it fails with. */
    private int failedRead(NbdUri uri) {
        try (NbdClient c = NbdClient.open(uri, 1, 1); Arena a = Arena.ofShared()) {
            MemorySegment m = a.allocate(4096, 4096);
            ExecutionException e = assertThrows(ExecutionException.class, () -> c.read(0, m).get(30, TimeUnit.SECONDS));
            assertTrue(c.problem().isPresent());
            return ((BlockIoException) e.getCause()).errno();
        }
    }

    @Test
    void replyWithAnUnknownCookieIsAProtocolErrorAndTheReadFailsWithEio() throws Exception {
        NbdUri u = fake((ch, n) -> {
            negotiate(ch, SIZE);
            long[] r = request(ch);
            write(ch, ByteBuffer.allocate(16).putInt(Nbd.SIMPLE_REPLY_MAGIC).putInt(0).putLong(r[0] + 1000).flip());
            read(ch, 1);
        });
        try (NbdClient c = NbdClient.open(u, 1, 1); Arena a = Arena.ofShared()) {
            MemorySegment m = a.allocate(4096, 4096);
            ExecutionException e = assertThrows(ExecutionException.class, () -> c.read(0, m).get(30, TimeUnit.SECONDS));
            assertEquals(Errno.EIO, ((BlockIoException) e.getCause()).errno());
            assertTrue(c.problem().orElseThrow().contains("unknown cookie"), c.problem().toString());
        }
    }

    @Test
    void aReplyCutShortIsRetriedThenFails() throws Exception {
        NbdUri u = fake((ch, n) -> {
            negotiate(ch, SIZE);
            long[] r = request(ch);
            write(ch, ByteBuffer.allocate(16 + 100).putInt(Nbd.SIMPLE_REPLY_MAGIC).putInt(0).putLong(r[0]).flip());
            // 100 of 4096 data bytes, then the connection closes
        });
        assertEquals(Errno.EIO, failedRead(u));
    }

    @Test
    void aStructuredReplyNobodyAskedForIsRefused() throws Exception {
        NbdUri u = fake((ch, n) -> {
            negotiate(ch, SIZE);
            long[] r = request(ch);
            write(ch, ByteBuffer.allocate(20).putInt(Nbd.STRUCTURED_REPLY_MAGIC).putShort((short) 1).putShort((short) 1)
                    .putLong(r[0]).putInt(Integer.MAX_VALUE).flip());
            read(ch, 1);
        });
        assertEquals(Errno.EIO, failedRead(u));
    }

    @Test
    void anOversizedOptionReplyFailsTheConnectNotTheMemory() throws Exception {
        NbdUri u = fake((ch, n) -> {
            write(ch, ByteBuffer.allocate(18).putLong(Nbd.NBDMAGIC).putLong(Nbd.IHAVEOPT).putShort((short) 1).flip());
            read(ch, 4 + 16);
            write(ch, ByteBuffer.allocate(20).putLong(Nbd.OPT_REPLY_MAGIC).putInt(Nbd.OPT_GO).putInt(Nbd.REP_INFO)
                    .putInt(0x7fff_fff0).flip());
            read(ch, 1);
        });
        NbdException e = assertThrows(NbdException.class, () -> NbdClient.open(u, 1));
        assertTrue(e.getMessage().contains("option reply of 2147483632 bytes"), e.getMessage());
    }

    @Test
    void wrongGreetingsAndRefusalsSayWhat() throws Exception {
        NbdUri u = fake((ch, n) -> {
            switch (n) {
                case 1 -> write(ch, ByteBuffer.wrap("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
                case 2 -> write(ch, ByteBuffer.allocate(18).putLong(Nbd.NBDMAGIC).putLong(0x00420281861253L).putShort((short) 0).flip());
                case 3 -> {
                    write(ch, ByteBuffer.allocate(18).putLong(Nbd.NBDMAGIC).putLong(Nbd.IHAVEOPT).putShort((short) 1).flip());
                    read(ch, 4 + 16 + 8);
                    optReply(ch, Nbd.REP_ERR_POLICY, ByteBuffer.wrap("not for you".getBytes(StandardCharsets.UTF_8)));
                }
                default -> {
                    write(ch, ByteBuffer.allocate(18).putLong(Nbd.NBDMAGIC).putLong(Nbd.IHAVEOPT).putShort((short) 1).flip());
                    read(ch, 4 + 16 + 8);
                    optReply(ch, Nbd.REP_INFO, ByteBuffer.allocate(12).putShort((short) Nbd.INFO_EXPORT).putLong(SIZE).putShort((short) 1).flip());
                    optReply(ch, Nbd.REP_INFO, ByteBuffer.allocate(14).putShort((short) Nbd.INFO_BLOCK_SIZE).putInt(3).putInt(4096).putInt(1 << 20).flip());
                    optReply(ch, Nbd.REP_ACK, ByteBuffer.allocate(0));
                }
            }
            read(ch, 1);
        });
        String http = assertThrows(NbdException.class, () -> NbdClient.open(u, 1)).getMessage();
        assertTrue(http.contains("not an NBD server"), http);
        String old = assertThrows(NbdException.class, () -> NbdClient.open(u, 1)).getMessage();
        assertTrue(old.contains("old-style"), old);
        String refused = assertThrows(NbdException.class, () -> NbdClient.open(u, 1)).getMessage();
        assertTrue(refused.contains("refused the export") && refused.contains("not for you"), refused);
        String min = assertThrows(NbdException.class, () -> NbdClient.open(u, 1)).getMessage();
        assertTrue(min.contains("minimum block size 3"), min);
    }

    @Test
    void aSizeChangeAcrossAReconnectFailsTheIo() throws Exception {
        NbdUri u = fake((ch, n) -> {
            negotiate(ch, n == 1 ? SIZE : 2 * SIZE);
            if (n == 1) request(ch);   // then the connection drops with the request unanswered
            else read(ch, 1);
        });
        try (NbdClient c = NbdClient.open(u, 1, 3); Arena a = Arena.ofShared()) {
            MemorySegment m = a.allocate(4096, 4096);
            ExecutionException e = assertThrows(ExecutionException.class, () -> c.read(0, m).get(30, TimeUnit.SECONDS));
            assertEquals(Errno.EIO, ((BlockIoException) e.getCause()).errno());
            assertTrue(c.problem().orElseThrow().contains("export size changed from 1048576 to 2097152"), c.problem().toString());
        }
        assertEquals(2, accepted.get(), "a size change is not retried");
    }
}
