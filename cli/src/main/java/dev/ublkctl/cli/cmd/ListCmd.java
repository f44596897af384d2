package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.Cmd;
import dev.ublkctl.cli.CliException;
import dev.ublkctl.cli.DeviceIds;
import dev.ublkctl.cli.ExitCode;
import dev.ublkctl.cli.Sizes;
import dev.ublkctl.cli.Style;
import dev.ublkctl.cli.Table;
import dev.ublkctl.daemon.DeviceRecord;
import dev.ublkctl.daemon.DeviceRecords;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;

@Command(name = "list", aliases = "ls",
        description = {"List devices.", "Reads the device records in the run dir (no daemon round trip)."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl list", "  ublkctl list -n 0 -v", "  ublkctl list --json | jq '.[].state'",
                "", "A device whose daemon died is listed with state 'dead' (remove it with 'ublkctl del')."})
public final class ListCmd extends Cmd {

    @Option(names = {"-n", "--number"}, paramLabel = "ID", completionCandidates = DeviceIds.class,
            description = "Only this device.")
    Integer id;

    @Option(names = {"-v", "--verbose"}, description = "All the fields: files, program path, daemon pid, creation time.")
    boolean verbose;

    @Override
    protected int run() {
        DeviceRecords store = new DeviceRecords(session().runDir());
        List<DeviceRecord> recs;
        if (id != null) {
            recs = store.read(id).map(List::of)
                    .orElseThrow(() -> new CliException(ExitCode.NOT_FOUND, "no device " + id));
        } else {
            recs = store.readAll();
        }
        if (json()) {
            printJson(id != null ? recs.getFirst() : recs);
            return ExitCode.OK;
        }
        Style st = style();
        if (recs.isEmpty()) {
            out().println("no devices");
            out().flush();
            return ExitCode.OK;
        }
        Table t = verbose
                ? new Table("ID", "STATE", "TARGET", "BACKEND", "SIZE", "BS", "QUEUES", "DEPTH", "PROGRAM", "FILES", "PID", "CREATED").right(0, 4, 5, 6, 7, 10)
                : new Table("ID", "STATE", "TARGET", "BACKEND", "SIZE", "QUEUES", "DEPTH", "PROGRAM").right(0, 4, 5, 6);
        for (DeviceRecord r : recs) {
            String prog = r.program() == null ? "-" : r.program();
            if (verbose) {
                t.row(r.id(), r.state(), r.target(), r.backend(), Sizes.format(r.size()), r.blockSize(), r.queues(),
                        r.depth(), r.programPath() == null ? prog : prog + " (" + r.programPath() + ")",
                        r.files().isEmpty() ? "-" : String.join(",", r.files()), r.daemonPid(), r.created());
            } else {
                t.row(r.id(), r.state(), r.target(), r.backend(), Sizes.format(r.size()), r.queues(), r.depth(), prog);
            }
        }
        t.print(out(), st);
        boolean dead = recs.stream().anyMatch(r -> DeviceRecord.DEAD.equals(r.state()));
        if (dead) note("some devices' daemon died; 'ublkctl del -n ID' removes their records");
        return ExitCode.OK;
    }
}
