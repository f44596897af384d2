package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.CliException;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.DeviceId;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.ExportRequest;
import dev.ublkctl.daemon.ExportView;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;

@Command(name = "export",
        description = {"Serve a live device over NBD, so any NBD client (qemu-img, qemu-io, nbdcopy, nbdinfo, "
                + "nbd-client) can read and write it.",
                "I/O from NBD goes through the device's queues, program and counters. Prints the URI to open. "
                        + "Default: a Unix socket in the run dir (mode 0600); --listen serves TCP, on 127.0.0.1 "
                        + "unless an address is given."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl export -n 0",
                "  qemu-img info \"$(ublkctl export -n 1 --name disk)\"",
                "  ublkctl export -n 0 --listen 10809 --read-only",
                "  ublkctl export -n 0 --listen 0.0.0.0:10809     # every address: anyone who reaches the port can write"})
public final class ExportCmd extends Cmd {
    @Mixin DeviceId dev;

    @ArgGroup(exclusive = true)
    Where where = new Where();

    static final class Where {
        @Option(names = "--socket", paramLabel = "PATH", description = "Unix socket to listen on (default: nbd-ID.sock in the run dir).")
        Path socket;

        @Option(names = "--listen", paramLabel = "[ADDR:]PORT",
                description = "Listen on TCP instead; ADDR defaults to 127.0.0.1 (port 0: any free port).")
        String listen;
    }

    @Option(names = "--name", paramLabel = "NAME", description = "Export name (default ublkbID).")
    String name;

    @Option(names = "--read-only", description = "Refuse writes (clients see a read-only export).")
    boolean readOnly;

    @Override
    protected int run() {
        ExportRequest req = request(dev.id, where.socket, where.listen, name, readOnly);
        try (DaemonClient c = connect()) {
            print(c.export(req), where.listen);
        }
        return ExitCode.OK;
    }

    /** The request as the daemon checks it. */
    static ExportRequest request(int id, Path socket, String listen, String name, boolean readOnly) {
        try {
            return new ExportRequest(id, socket == null ? null : socket.toAbsolutePath().normalize().toString(), listen, name, readOnly);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
    }

    /** The URI on stdout (JSON: the export), and on stderr where TCP listens when the user named only a port. */
    private void print(ExportView v, String listen) {
        if (listen != null && ExportRequest.portOnly(listen))
            note("listening on " + v.address() + " (loopback only; --listen ADDR:PORT for another address)");
        if (json()) printJson(v);
        else {
            out().println(v.uri());
            out().flush();
        }
    }
}
