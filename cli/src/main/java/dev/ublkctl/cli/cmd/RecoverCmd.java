package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.CliException;
import dev.ublkctl.cli.Cmd;
import dev.ublkctl.cli.DaemonLauncher;
import dev.ublkctl.cli.DeviceIds;
import dev.ublkctl.cli.ExitCode;
import dev.ublkctl.cli.Records;
import dev.ublkctl.daemon.AddRequest;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.DeadDevices;
import dev.ublkctl.daemon.DeviceRecord;
import dev.ublkctl.daemon.DeviceRecords;
import dev.ublkctl.ublk.kernel.UblkControl;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

@Command(name = "recover",
        description = {"Serve again a kernel device whose daemon died.",
                "A kernel-backend device added with recovery (the default where the kernel has UBLK_F_USER_RECOVERY) "
                        + "outlives its daemon: the kernel holds its I/O. recover starts a daemon (or uses the running one), "
                        + "which takes the device over with the target, files and BPF program of its record; the held I/O "
                        + "goes on, and writes acknowledged before the crash are kept.",
                "Emulated devices die with their daemon and cannot be recovered: 'ublkctl del' removes their records."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl list                # state 'dead', recoverable", "  ublkctl recover -n 0"})
public final class RecoverCmd extends Cmd {

    @Option(names = {"-n", "--number"}, paramLabel = "ID", required = true, completionCandidates = DeviceIds.class,
            description = "The device to recover.")
    int id;

    @Override
    protected int run() {
        DeviceRecords store = new DeviceRecords(session().runDir());
        DeviceRecord r = store.read(id).orElseThrow(() -> CliException.notFound("no record of device " + id + " in "
                + session().runDir().root() + " (recover needs the record its daemon wrote)"));
        if (DeviceRecord.LIVE.equals(r.state()))
            throw CliException.failed("device " + id + " is served by daemon " + r.daemonPid() + ": nothing to recover");
        if (!"kernel".equals(r.backend()))
            throw CliException.unsupported("device " + id + " ran on the " + r.backend() + " backend: it died with its daemon; "
                    + "'ublkctl del -n " + id + "' removes its record");
        if (!Files.exists(Path.of(UblkControl.CONTROL_PATH)))
            throw CliException.unsupported("no ublk driver here (no " + UblkControl.CONTROL_PATH + ")");
        if (!DeadDevices.inKernel(r))
            throw CliException.notFound("the kernel no longer has ublk device " + id + "; 'ublkctl del -n " + id + "' removes its record");
        if (!r.recoverable()) {
            String state = DeadDevices.kernelState(r).map(i -> " (the kernel has it " + i.stateName() + ")").orElse("");
            throw CliException.unsupported("device " + id + " was added without recovery (--no-recovery, or the kernel lacks "
                    + "UBLK_F_USER_RECOVERY)" + state + ": it can only be deleted with 'ublkctl del -n " + id + "'");
        }
        AddRequest req = new AddRequest(id, r.target(), r.queues(), r.depth(), r.size(), r.blockSize(), r.files(), r.chunk(),
                r.bpf(), "kernel", false, r.threads(), r.engine());
        note("recovering device " + id + " (its daemon " + r.daemonPid() + " died)");
        try (DaemonClient c = DaemonLauncher.connectOrSpawn(session())) {
            DeviceRecord back = c.recover(req);
            if (json()) printJson(back);
            else Records.print(out(), style(), back);
        }
        out().flush();
        return ExitCode.OK;
    }
}
