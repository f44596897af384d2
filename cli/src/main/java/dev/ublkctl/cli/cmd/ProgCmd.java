package dev.ublkctl.cli.cmd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.ublkctl.cli.Cmd;
import dev.ublkctl.cli.DeviceIds;
import dev.ublkctl.cli.ExitCode;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.DeviceRecord;
import dev.ublkctl.daemon.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "prog",
        description = "Show, dump and run BPF programs.",
        subcommands = {ProgCmd.Show.class, ProgDumpCmd.class, ProgRunCmd.class, ProgConformanceCmd.class},
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
                JsonNode result;
                if (id != null) {
                    result = c.program(id);
                } else {
                    ArrayNode all = Json.mapper().createArrayNode();
                    for (DeviceRecord r : c.listDevices()) {
                        JsonNode p = c.program(r.id());
                        if (p != null && !p.isNull()) all.add(p);
                    }
                    result = all;
                }
                if (json()) printJson(result);
                else if (result == null || result.isNull()) out().println("device " + id + " has no program");
                else if (result.isArray() && result.isEmpty()) out().println("no programs attached");
                else if (result.isArray()) result.forEach(this::human);
                else human(result);
                out().flush();
            }
            return ExitCode.OK;
        }

        private void human(JsonNode p) {
            var st = style();
            out().println(st.bold("device " + p.path("device").asText() + ": " + p.path("name").asText())
                    + "  struct ublk_bpf_ops id " + p.path("opsId").asText() + "  from " + p.path("source").asText()
                    + (p.path("aioOps").isTextual() ? "  aio ops " + p.path("aioOps").asText() : ""));
            java.util.List<String> cbs = new java.util.ArrayList<>();
            p.path("callbacks").fields().forEachRemaining(e -> cbs.add(e.getKey() + "=" + e.getValue().asText()));
            out().println("  callbacks: " + String.join(" ", cbs));
            java.util.List<String> maps = new java.util.ArrayList<>();
            p.path("maps").forEach(m -> maps.add(m.asText()));
            out().println("  maps:      " + String.join(" ", maps));
            long runs = p.path("runs").asLong();
            out().println("  runs:      " + runs + " in " + dev.ublkctl.cli.Durations.ns(p.path("runNanos").asLong())
                    + (runs > 0 ? " (" + dev.ublkctl.cli.Durations.ns(p.path("runNanos").asLong() / runs) + " each)" : "")
                    + ", engine " + p.path("engine").asText());
            if (p.path("compile").isTextual())
                for (String part : p.path("compile").asText().split("; ")) out().println("  compiled:  " + part);
        }
    }
}
