package dev.ublkctl.daemon;

/**
 * A device's NBD export, as its record and {@code export --json} show it.
 *
 * @param uri      what a client opens: {@code nbd+unix:///NAME?socket=PATH} or {@code nbd://ADDR:PORT/NAME}
 * @param name     the export name
 * @param socket   the Unix socket, or null for TCP
 * @param address  the TCP address and port it listens on ({@code 127.0.0.1:10809}), or null for a socket
 * @param readOnly whether writes are refused
 */
public record ExportView(String uri, String name, String socket, String address, boolean readOnly) {
}
