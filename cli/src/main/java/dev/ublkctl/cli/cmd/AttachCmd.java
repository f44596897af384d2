package dev.ublkctl.cli.cmd;

import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.cli.Cmd;
import dev.ublkctl.cli.DeviceId;
import dev.ublkctl.cli.ExitCode;
import dev.ublkctl.cli.Objects;
import dev.ublkctl.cli.Programs;
import dev.ublkctl.cli.Records;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.DeviceRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "attach",
        description = {"Attach a BPF program to a live device (replaces the current one).",
                "Possible where the backend can swap programs (emulated, kernel); a kernel-bpf device gets its "
                        + "program at add time only."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl attach -n 0 null", "  ublkctl attach -n 1 ./my_loop.bpf.o"})
public final class AttachCmd extends Cmd {
    @Mixin DeviceId dev;

    @Parameters(paramLabel = "OBJECT.o", description = "Object file with a struct ublk_bpf_ops, or a bundled name.")
    String program;

    @picocli.CommandLine.Option(names = "--ops", paramLabel = "NAME|ID",
            description = "Which struct ublk_bpf_ops of the object: variable name or .id (default: the first).")
    String ops;

    @picocli.CommandLine.Option(names = "--engine", paramLabel = "ENGINE", defaultValue = "jit",
            description = "What runs the BPF program: jit (compiled to JVM bytecode, the default) or interp (the interpreter).")
    EngineKind engine = EngineKind.DEFAULT;

    @Override
    protected int run() {
        String p = Programs.resolve(program);
        Objects.requireUblkOps(Objects.load(p), program);
        if (ops != null) p = p + ":" + ops;
        try (DaemonClient c = connect()) {
            DeviceRecord r = c.attach(dev.id, p, engine.label());
            if (json()) printJson(r);
            else Records.print(out(), style(), r);
        }
        return ExitCode.OK;
    }
}
