package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.EngineOption;

import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.DeviceId;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.cli.common.CliException;
import dev.ublkctl.cli.common.Records;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.DeviceRecord;
import dev.ublkctl.daemon.ProgramRef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "attach",
        description = {"Attach a BPF program to a live device (replaces the current one).",
                "Possible where the backend can swap programs (emulated, kernel); a kernel-bpf device gets its "
                        + "program at add time only."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl attach -n 0 null", "  ublkctl attach -n 1 ./my_loop.bpf.o",
                "  ublkctl attach -n 1 ./ublk_stripe.o --map stripe_map @dev='{\"chunk_shift\":16,\"nr_backfiles\":2,\"fds\":[@fd0,@fd1]}'"})
public final class AttachCmd extends Cmd {
    @Mixin DeviceId dev;

    @Parameters(paramLabel = "OBJECT.o", description = "Object file with a struct ublk_bpf_ops, or a bundled name.")
    String program;

    @picocli.CommandLine.Option(names = "--ops", paramLabel = "NAME|ID",
            description = "Which struct ublk_bpf_ops of the object: variable name or .id (default: the first).")
    String ops;

    @picocli.CommandLine.Mixin
    EngineOption engineOption = new EngineOption();

    @picocli.CommandLine.Mixin
    dev.ublkctl.cli.common.MapOption mapOption = new dev.ublkctl.cli.common.MapOption();

    @Override
    protected int run() {
        String p;
        java.util.List<dev.ublkctl.daemon.MapSetting> maps;
        try {
            maps = mapOption.settings();
            p = BpfObject.resolve(program);
            // refused here in the daemon's words, before it is asked (the daemon compiles it for its engine)
            ProgramRef.of(p, ops).load(EngineKind.INTERP);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
        try (DaemonClient c = connect()) {
            DeviceRecord r = c.attach(dev.id, p, ops, engineOption.kind(), maps);
            if (json()) printJson(r);
            else Records.print(out(), style(), r);
        }
        return ExitCode.OK;
    }
}
