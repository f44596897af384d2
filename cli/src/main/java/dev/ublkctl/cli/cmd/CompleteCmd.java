package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.Names;
import dev.ublkctl.cli.common.CliException;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.daemon.DeviceRecords;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * Hidden: candidates for shell completion scripts. Main answers it before picocli loads;
 * this class keeps it in the model (and works the same inside the shell).
 */
@Command(name = "__complete", hidden = true,
        description = "Print completion candidates, one per line: devices, programs, targets, backends, patterns.")
public final class CompleteCmd extends Cmd {
    @Parameters(paramLabel = "WHAT", description = "devices, programs, targets, backends or patterns")
    String what;

    @Override
    protected int run() {
        java.util.List<String> l = switch (what) {
            case "devices" -> new DeviceRecords(session().runDir()).ids().stream().map(String::valueOf).toList();
            case "programs" -> BpfObject.BUNDLED;
            case "targets" -> Names.targets();
            case "backends" -> Names.backends();
            case "patterns" -> java.util.List.of("randread", "randwrite", "read", "write", "randrw");
            default -> throw CliException.usage("unknown completion kind '" + what + "'");
        };
        for (String s : l) out().println(s);
        out().flush();
        return ExitCode.OK;
    }
}
