package dev.ublkctl.daemon;

import java.net.InetSocketAddress;

/**
 * The params of {@code device.export}. At most one of {@code socket} and {@code listen}; neither
 * means a Unix socket in the run dir.
 *
 * @param id       the device
 * @param socket   absolute path of the Unix socket to listen on, or null
 * @param listen   {@code [ADDR:]PORT} to listen on over TCP (ADDR defaults to 127.0.0.1), or null
 * @param name     export name, or null for {@code ublkbID}
 * @param readOnly refuse writes
 */
public record ExportRequest(int id, String socket, String listen, String name, boolean readOnly) {

    /** The loopback address a TCP export binds when the user names only a port. */
    public static final String DEFAULT_HOST = "127.0.0.1";

    public ExportRequest {
        if (socket != null && listen != null) throw new IllegalArgumentException("--socket and --listen exclude each other");
        if (socket != null && !java.nio.file.Path.of(socket).isAbsolute()) throw new IllegalArgumentException("socket path must be absolute: " + socket);
        if (listen != null) listenAddress(listen);
        if (name != null && name.length() > 256) throw new IllegalArgumentException("export name longer than 256 characters");
    }

    /** The export name: the one given or {@code ublkbID}. */
    public String exportName() { return name != null ? name : "ublkb" + id; }

    /** Whether {@code listen} names no address (so the default, loopback, is used). */
    public static boolean portOnly(String listen) { return listen.indexOf(':') < 0 || listen.startsWith(":"); }

    /** {@code [ADDR:]PORT} ({@code [::1]:PORT} for IPv6) as an unresolved-if-needed address; port 0 picks a free one. */
    public static InetSocketAddress listenAddress(String listen) {
        String host = DEFAULT_HOST, port = listen;
        int colon = listen.lastIndexOf(':');
        if (colon >= 0) {
            host = listen.substring(0, colon);
            port = listen.substring(colon + 1);
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            if (host.isEmpty()) host = DEFAULT_HOST;
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--listen wants [ADDR:]PORT, got '" + listen + "'");
        }
        if (p < 0 || p > 65535) throw new IllegalArgumentException("port must be 0..65535, got " + p);
        return new InetSocketAddress(host, p);
    }
}
