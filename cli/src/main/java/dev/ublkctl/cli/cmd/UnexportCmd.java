package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.DeviceId;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.ExportView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "unexport",
        description = {"Stop a device's NBD export.", "Its clients are disconnected; the device keeps running."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl unexport -n 0"})
public final class UnexportCmd extends Cmd {
    @Mixin DeviceId dev;

    @Override
    protected int run() {
        try (DaemonClient c = connect()) {
            ExportView v = c.unexport(dev.id);
            if (json()) printJson(v);
            else {
                out().println("device " + dev.id + ": no longer exported (was " + v.uri() + ")");
                out().flush();
            }
        }
        return ExitCode.OK;
    }
}
