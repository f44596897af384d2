package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.DeviceId;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.cli.common.Records;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.DeviceRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "detach",
        description = {"Detach the BPF program of a live device.", "All I/O goes to the Java target afterwards."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl detach -n 0"})
public final class DetachCmd extends Cmd {
    @Mixin DeviceId dev;

    @Override
    protected int run() {
        try (DaemonClient c = connect()) {
            DeviceRecord r = c.detach(dev.id);
            if (json()) printJson(r);
            else Records.print(out(), style(), r);
        }
        return ExitCode.OK;
    }
}
