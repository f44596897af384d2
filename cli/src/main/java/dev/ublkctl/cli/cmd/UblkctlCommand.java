package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.CommandTree;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.cli.common.Version;
import picocli.CommandLine.Command;

/** The top of the command tree. */
@Command(name = "ublkctl",
        versionProvider = Version.class,
        synopsisSubcommandLabel = "COMMAND",
        description = {"Run and watch ublk block devices whose I/O fast path is an eBPF program.",
                "",
                "Devices live in a daemon that 'add' starts; every command talks to it over a Unix socket "
                        + "in the run dir (/run/ublkctl as root, else $XDG_RUNTIME_DIR/ublkctl; $UBLKCTL_RUN_DIR overrides). "
                        + "Commands may be abbreviated where unambiguous (ublkctl l = list, ublkctl p s = prog show)."},
        subcommands = {
                FeaturesCmd.class, AddCmd.class, DelCmd.class, ListCmd.class, RecoverCmd.class, AttachCmd.class, DetachCmd.class,
                ExportCmd.class, UnexportCmd.class,
                ProgCmd.class, MapCmd.class, StatsCmd.class, BenchCmd.class, VerifyCmd.class, ShellCmd.class,
                MetricsCmd.class, TopCommand.class, DemoCommand.class, CompleteCmd.class},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl features",
                "  ublkctl add -t loop -f disk.img --bpf loop",
                "  ublkctl list",
                "  ublkctl stats -n 0 --watch 1",
                "  ublkctl map dump -n 0 qstats",
                "  ublkctl export -n 0",
                "  ublkctl bench -n 0 --rw randread --runtime 5",
                "  ublkctl del -a",
                "  ublkctl top",
                "  ublkctl demo",
                "",
                "Exit codes: 0 ok, 1 failed, 2 bad command line, 3 not found, 4 daemon unreachable or dead, "
                        + "5 not supported here, 130 interrupted.",
                "Environment: UBLKCTL_RUN_DIR (run dir), NO_COLOR (no colors), UBLKCTL_DEBUG=1 (as --debug),",
                "UBLKCTL_DAEMON_JAVA_OPTS (JVM options of a daemon that a command starts), UBLKCTL_CDS=0 (no class-data archive)."})
public final class UblkctlCommand extends Cmd {
    private final CommandTree tree;

    /** @param tree the tree this command is the root of (what the shell runs lines in) */
    public UblkctlCommand(CommandTree tree) { this.tree = tree; }

    public CommandTree tree() { return tree; }

    @Override
    protected int run() {
        spec.commandLine().usage(out());
        return ExitCode.OK;
    }
}
