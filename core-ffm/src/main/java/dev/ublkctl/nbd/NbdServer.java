package dev.ublkctl.nbd;

import dev.ublkctl.ublk.BlockDevice;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Serves one block device as an NBD export, on a Unix socket or a TCP address: fixed newstyle
 * negotiation ({@code NBD_OPT_GO/INFO/LIST/ABORT/EXPORT_NAME/STRUCTURED_REPLY}), then
 * READ/WRITE/FLUSH/TRIM/WRITE_ZEROES (FUA as a write then a flush) through the device's own
 * {@link BlockDevice#submit}: its queues, its program and its counters see NBD I/O like any other.
 *
 * <p>Each connection has its own virtual thread reading requests and another writing replies,
 * so a client that stalls, sends garbage or never speaks costs only its own threads. Every
 * connection reaches the same device, whose FLUSH covers every write completed before it, so
 * the export advertises multi-conn.
 */
public final class NbdServer implements AutoCloseable {

    /** What is served: the device, under {@code name}; a read-only export refuses writes with EPERM. */
    public record Export(String name, BlockDevice device, boolean readOnly, String description) {
        public Export {
            if (name == null) name = "";
            if (name.length() > 4096) throw new IllegalArgumentException("export name longer than 4096 bytes");
        }
    }

    private final ServerSocketChannel listener;
    private final Export export;
    private final Consumer<String> log;
    private final Path socketFile;
    private final Set<NbdConnection> conns = ConcurrentHashMap.newKeySet();
    private final AtomicLong served = new AtomicLong();
    private final Thread acceptor;
    private volatile boolean closed;

    private NbdServer(ServerSocketChannel listener, Export export, Consumer<String> log, Path socketFile) {
        this.listener = listener;
        this.export = export;
        this.log = log;
        this.socketFile = socketFile;
        this.acceptor = Thread.ofPlatform().daemon(true).name("nbd-accept-" + export.name()).unstarted(this::acceptLoop);
    }

    /**
     * Binds {@code address} and starts serving. A Unix socket is made mode 0600 (its directory
     * decides who may reach it too); a stale socket file nobody listens on is replaced.
     */
    public static NbdServer start(java.net.SocketAddress address, Export export, Consumer<String> log) throws IOException {
        ServerSocketChannel ch;
        Path file = null;
        if (address instanceof UnixDomainSocketAddress ua) {
            file = ua.getPath();
            removeStale(file);
            ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.bind(ua, 256);
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            } catch (IOException e) {
                ch.close();
                throw new IOException("cannot listen on " + file + ": " + e.getMessage(), e);
            }
        } else if (address instanceof InetSocketAddress ia) {
            if (ia.isUnresolved()) throw new IOException("cannot resolve " + ia.getHostString());
            ch = ServerSocketChannel.open();
            try {
                ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                ch.bind(ia, 256);
            } catch (IOException e) {
                ch.close();
                throw new IOException("cannot listen on " + ia.getHostString() + ":" + ia.getPort() + ": " + e.getMessage(), e);
            }
        } else {
            throw new IllegalArgumentException("unsupported address " + address);
        }
        NbdServer s = new NbdServer(ch, export, log, file);
        s.acceptor.start();
        return s;
    }

    /** A socket file left by a process that died is replaced; one somebody answers on is not. */
    private static void removeStale(Path file) throws IOException {
        if (!Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        if (!"socket".equals(fileType(file))) throw new IOException("cannot listen on " + file + ": it exists and is not a socket");
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(file));
            throw new IOException("cannot listen on " + file + ": another server is listening there");
        } catch (IOException refused) {
            if (refused.getMessage() != null && refused.getMessage().startsWith("cannot listen")) throw refused;
            Files.deleteIfExists(file);
        }
    }

    private static String fileType(Path p) throws IOException {
        var a = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        return a.isOther() ? "socket" : a.isDirectory() ? "directory" : "file";
    }

    /** The address actually bound (the port chosen for port 0). */
    public java.net.SocketAddress address() {
        try {
            return listener.getLocalAddress();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The URI a client opens (for a TCP wildcard bind, the loopback address). */
    public NbdUri uri() {
        if (socketFile != null) return NbdUri.unix(socketFile, export.name());
        InetSocketAddress ia = (InetSocketAddress) address();
        String host = ia.getAddress().isAnyLocalAddress() ? "localhost" : ia.getAddress().getHostAddress();
        return NbdUri.tcp(host, ia.getPort(), export.name());
    }

    public Export export() { return export; }

    /** Connections open now. */
    public int connections() { return conns.size(); }

    /** Connections accepted since the start. */
    public long connectionsServed() { return served.get(); }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel c;
            try {
                c = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed) return;
                log.accept("nbd export '" + export.name() + "': accept: " + e.getMessage());
                try { Thread.sleep(100); } catch (InterruptedException ie) { return; }   // EMFILE and the like: do not spin
                continue;
            }
            long n = served.incrementAndGet();
            NbdConnection conn = new NbdConnection(c, export, log, n);
            conns.add(conn);
            Thread.ofVirtual().name("nbd-conn-" + n).start(() -> {
                try {
                    conn.run();
                } finally {
                    conns.remove(conn);
                }
            });
            if (closed) conn.abort();
        }
    }

    /**
     * Stops listening and drops every connection; I/O already submitted to the device still
     * completes (its buffers stay until then), its replies go nowhere.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try { listener.close(); } catch (IOException ignored) { }
        for (NbdConnection c : conns) c.abort();
        if (socketFile != null) {
            try { Files.deleteIfExists(socketFile); } catch (IOException ignored) { }
        }
        try { acceptor.join(2000); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
    }
}
