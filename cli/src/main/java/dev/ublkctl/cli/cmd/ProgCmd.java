package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.Durations;
import dev.ublkctl.cli.common.TerminalText;
import dev.ublkctl.daemon.ProgramView;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.DeviceIds;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.DeviceRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "prog",
        description = "Show, dump and run BPF programs.",
        subcommands = {ProgCmd.Show.class, ProgDumpCmd.class, ProgRunCmd.class, ProgConformanceCmd.class, ProgTraceCmd.class},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl prog show", "  ublkctl prog show -n 0"})
public final class ProgCmd extends Cmd {
    @Override
    protected int run() {
        spec.commandLine().usage(err());
        return ExitCode.USAGE;
    }

    @Command(name = "show", aliases = "list",
            description = "The programs attached to devices: name, object, ops, runs and run time.",
            footerHeading = "%nExamples:%n", footer = {"  ublkctl prog show", "  ublkctl prog show -n 0 --json"})
    public static final class Show extends Cmd {
        @Option(names = {"-n", "--number"}, paramLabel = "ID", completionCandidates = DeviceIds.class,
                description = "Only this device's program.")
        Integer id;

        @Override
        protected int run() {
            try (DaemonClient c = connect()) {
                if (id != null) {
                    ProgramView p = c.program(id);
                    if (json()) printJson(p);
                    else if (p == null) out().println("device " + id + " has no program");
                    else human(p);
                } else {
                    java.util.List<ProgramView> all = new java.util.ArrayList<>();
                    for (DeviceRecord r : c.listDevices()) {
                        ProgramView p = c.program(r.id());
                        if (p != null) all.add(p);
                    }
                    if (json()) printJson(all);
                    else if (all.isEmpty()) out().println("no programs attached");
                    else all.forEach(this::human);
                }
                out().flush();
            }
            return ExitCode.OK;
        }

        private void human(ProgramView p) {
            var st = style();
            // names and paths come from the object file: shown escaped
            out().println(st.bold("device " + p.device() + ": " + TerminalText.safe(p.name()))
                    + "  struct ublk_bpf_ops id " + p.opsId() + "  from " + TerminalText.safe(p.source())
                    + (p.aioOps() != null ? "  aio ops " + TerminalText.safe(p.aioOps()) : ""));
            java.util.List<String> cbs = new java.util.ArrayList<>();
            p.callbacks().forEach((k, v) -> cbs.add(k + "=" + v));
            out().println("  callbacks: " + TerminalText.safe(String.join(" ", cbs)));
            out().println("  maps:      " + TerminalText.safe(String.join(" ", p.maps())));
            if (!p.fds().isEmpty())
                out().println("  fds:       " + String.join(" ", p.fds().stream().map(String::valueOf).toList())
                        + "  (backing files' descriptors: @fd0.. in --map)");
            long runs = p.runs();
            out().println("  runs:      " + runs + " in " + Durations.ns(p.runNanos())
                    + (runs > 0 ? " (" + Durations.ns(p.runNanos() / runs) + " each)" : "")
                    + ", engine " + p.engine());
            if (p.compile() != null)
                for (String part : p.compile().split("; ")) out().println("  compiled:  " + TerminalText.safe(part));
        }
    }
}
