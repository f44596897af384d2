package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.Cmd;
import dev.ublkctl.cli.ExitCode;
import picocli.CommandLine.Command;

@Command(name = "top",
        description = "Full-screen monitor of devices, queues and programs (not built yet).",
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl top"})
public final class TopCmd extends Cmd {
    @Override
    protected int run() {
        String msg = "ublkctl top: the monitor is not built yet (use 'ublkctl stats -n ID --watch 1')";
        if (json()) printJson(java.util.Map.of("error", msg, "exitCode", ExitCode.UNSUPPORTED));
        else {
            err().println(msg);
            err().flush();
        }
        return ExitCode.UNSUPPORTED;
    }
}
