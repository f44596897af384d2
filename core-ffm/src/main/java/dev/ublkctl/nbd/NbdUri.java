package dev.ublkctl.nbd;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Where an NBD export is, in the URI form qemu and libnbd use: {@code nbd://HOST[:PORT]/NAME}
 * (TCP) or {@code nbd+unix:///NAME?socket=PATH} (a Unix socket).
 *
 * @param host   TCP host, or null for a Unix socket
 * @param port   TCP port (0 with a socket)
 * @param socket Unix socket path, or null for TCP
 * @param name   export name ("" is the server's default export)
 */
public record NbdUri(String host, int port, Path socket, String name) {

    public NbdUri {
        if ((host == null) == (socket == null)) throw new IllegalArgumentException("an NBD address is a host or a socket");
        if (name == null) name = "";
    }

    public static NbdUri tcp(String host, int port, String name) { return new NbdUri(host, port, null, name); }

    public static NbdUri unix(Path socket, String name) { return new NbdUri(null, 0, socket, name); }

    /** Parses {@code nbd://HOST[:PORT]/NAME} or {@code nbd+unix:///NAME?socket=PATH}. */
    public static NbdUri parse(String text) {
        URI u;
        try {
            u = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("bad NBD URL '" + text + "': " + e.getReason());
        }
        String scheme = u.getScheme();
        String path = u.getRawPath() == null ? "" : u.getRawPath();
        String name = URLDecoder.decode(path.startsWith("/") ? path.substring(1) : path, StandardCharsets.UTF_8);
        if ("nbd".equals(scheme)) {
            if (u.getHost() == null) throw new IllegalArgumentException("bad NBD URL '" + text + "': no host (nbd://HOST[:PORT]/NAME)");
            String host = u.getHost();
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            return tcp(host, u.getPort() < 0 ? Nbd.DEFAULT_PORT : u.getPort(), name);
        }
        if ("nbd+unix".equals(scheme)) {
            String q = u.getRawQuery();
            String sock = null;
            if (q != null) {
                for (String kv : q.split("&")) {
                    if (kv.startsWith("socket=")) sock = URLDecoder.decode(kv.substring(7), StandardCharsets.UTF_8);
                }
            }
            if (sock == null || sock.isEmpty())
                throw new IllegalArgumentException("bad NBD URL '" + text + "': nbd+unix needs ?socket=PATH");
            return unix(Path.of(sock), name);
        }
        throw new IllegalArgumentException("bad NBD URL '" + text + "': the scheme must be nbd or nbd+unix");
    }

    /** The socket address to connect to. */
    public SocketAddress address() {
        return socket != null ? UnixDomainSocketAddress.of(socket) : new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        String n = URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
        if (socket != null) return "nbd+unix:///" + n + "?socket=" + socket;
        String h = host.contains(":") ? "[" + host + "]" : host;
        return "nbd://" + h + (port == Nbd.DEFAULT_PORT ? "" : ":" + port) + "/" + n;
    }
}
