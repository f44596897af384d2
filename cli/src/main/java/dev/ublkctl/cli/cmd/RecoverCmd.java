package dev.ublkctl.cli.cmd;

import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.cli.common.CliException;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.DaemonLauncher;
import dev.ublkctl.cli.common.DeviceIds;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.cli.common.Records;
import dev.ublkctl.daemon.AddRequest;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.DeadDevices;
import dev.ublkctl.daemon.DeviceRecord;
import dev.ublkctl.daemon.DeviceRecords;
import dev.ublkctl.daemon.HostSupport;
import dev.ublkctl.daemon.ProgramRef;
import dev.ublkctl.ublk.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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
        if (r.isBroken())
            throw CliException.failed("device " + id + ": " + r.problem() + "; recover needs a readable record ('ublkctl del -n "
                    + id + "' removes it)");
        if (DeviceRecord.LIVE.equals(r.state()))
            throw CliException.failed("device " + id + " is served by daemon " + r.daemonPid() + ": nothing to recover");
        if (r.backend() != Backend.KERNEL)
            throw CliException.unsupported("device " + id + " ran on the " + r.backend() + " backend: it died with its daemon; "
                    + "'ublkctl del -n " + id + "' removes its record");
        try {
            HostSupport.probe().choose(Backend.KERNEL);
        } catch (UnsupportedOperationException e) {
            throw CliException.unsupported(e.getMessage());
        }
        if (!DeadDevices.inKernel(r))
            throw CliException.notFound("the kernel no longer has ublk device " + id + "; 'ublkctl del -n " + id + "' removes its record");
        if (!r.recoverable()) {
            String state = DeadDevices.kernelState(r).map(i -> " (the kernel has it " + i.stateName() + ")").orElse("");
            throw CliException.unsupported("device " + id + " was added without recovery (--no-recovery, or the kernel lacks "
                    + "UBLK_F_USER_RECOVERY)" + state + ": it can only be deleted with 'ublkctl del -n " + id + "'");
        }
        ProgramRef prog = r.bpf() == null ? null : ProgramRef.parse(r.bpf());
        AddRequest req = new AddRequest(id, r.target(), r.queues(), r.depth(), r.size(), r.blockSize(), r.files(), r.chunk(),
                prog == null ? null : prog.object(), prog == null ? null : prog.ops().toString(), Backend.KERNEL, false,
                r.threads(), null, r.engine() == null ? null : EngineKind.parse(r.engine()));
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
