package dev.ublkctl.cli.cmd;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.cli.CliException;
import dev.ublkctl.cli.Cmd;
import dev.ublkctl.cli.DeviceId;
import dev.ublkctl.cli.ExitCode;
import dev.ublkctl.cli.JsonText;
import dev.ublkctl.daemon.DaemonClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "stats",
        description = {"Show a device's per-queue counters.",
                "I/Os and bytes by op, handled in BPF vs redirected to the Java target vs split, errors, "
                        + "in flight, latency percentiles, BPF runs and run time."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl stats -n 0", "  ublkctl stats -n 0 --watch 1", "  ublkctl stats -n 0 --json"})
public final class StatsCmd extends Cmd {
    @Mixin DeviceId dev;

    @Option(names = {"-w", "--watch"}, paramLabel = "SECS",
            description = "Print again every SECS seconds until Ctrl-C (with --json: one object per line).")
    Double watch;

    @Override
    protected int run() throws InterruptedException {
        if (watch != null && !(watch > 0)) throw CliException.usage("--watch must be > 0 seconds");
        try (DaemonClient c = connect()) {
            while (true) {
                JsonNode s = c.stats(dev.id);
                if (json()) printJson(s);
                else {
                    if (watch != null) out().println(style().dim("--- device " + dev.id + " at " + java.time.LocalTime.now().withNano(0)));
                    JsonText.print(out(), style(), s);
                }
                if (watch == null) return ExitCode.OK;
                Thread.sleep((long) (watch * 1000));
            }
        }
    }
}
