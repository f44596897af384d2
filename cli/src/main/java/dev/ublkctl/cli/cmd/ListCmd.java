package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.ListView;
import dev.ublkctl.cli.common.DeviceIds;
import dev.ublkctl.cli.common.ExitCode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;


@Command(name = "list", aliases = "ls",
        description = {"List devices.", "Reads the device records in the run dir (no daemon round trip)."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl list", "  ublkctl list -n 0 -v", "  ublkctl list --json | jq '.[].state'",
                "", "A device whose daemon died is listed with state 'dead': remove it with 'ublkctl del', or, on the kernel",
                "backend, serve it again with 'ublkctl recover' (JSON field 'recoverable')."})
public final class ListCmd extends Cmd {

    @Option(names = {"-n", "--number"}, paramLabel = "ID", completionCandidates = DeviceIds.class,
            description = "Only this device.")
    Integer id;

    @Option(names = {"-v", "--verbose"}, description = "All the fields: files, program path, daemon pid, creation time.")
    boolean verbose;

    @Override
    protected int run() {
        return ListView.print(session().runDir(), id, verbose, globals.json, globals.pretty, style(), out(), err());
    }
}
