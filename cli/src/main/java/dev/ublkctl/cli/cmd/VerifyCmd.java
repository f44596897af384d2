package dev.ublkctl.cli.cmd;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.cli.Cmd;
import dev.ublkctl.cli.DeviceId;
import dev.ublkctl.cli.ExitCode;
import dev.ublkctl.cli.JsonText;
import dev.ublkctl.daemon.DaemonClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.time.Duration;

@Command(name = "verify",
        description = {"Check a device's data path end to end.",
                "Writes patterns through the device (and its program), reads them back and compares. "
                        + "Exit 1 if any block differs."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl verify -n 0", "  ublkctl verify -n 0 --json"})
public final class VerifyCmd extends Cmd {
    @Mixin DeviceId dev;

    @Override
    protected int run() {
        Progress pr = new Progress(err(), style());
        try (DaemonClient c = connect()) {
            JsonNode r = c.verify(dev.id, Duration.ofMinutes(10), pr::show);
            pr.done();
            if (json()) printJson(r);
            else JsonText.print(out(), style(), r);
            return r.path("ok").asBoolean(true) ? ExitCode.OK : ExitCode.ERROR;
        }
    }
}
