package dev.ublkctl.cli;

import dev.ublkctl.cli.common.Names;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.daemon.DeviceRecords;
import dev.ublkctl.daemon.RunDir;

/**
 * {@code ublkctl __complete devices|programs|targets|backends}: one candidate per line, for the
 * bash/zsh completion scripts. Reads file names only (no JSON, no daemon, no picocli).
 */
final class FastComplete {
    private FastComplete() {}

    static int run(String[] args) {
        String what = args.length > 1 ? args[1] : "";
        StringBuilder sb = new StringBuilder();
        switch (what) {
            case "devices" -> {
                for (int id : new DeviceRecords(RunDir.resolve()).ids()) sb.append(id).append('\n');
            }
            case "programs" -> { for (String p : dev.ublkctl.bpf.object.BpfObject.BUNDLED) sb.append(p).append('\n'); }
            case "targets" -> { for (String t : Names.targets()) sb.append(t).append('\n'); }
            case "backends" -> { for (String b : Names.backends()) sb.append(b).append('\n'); }
            case "patterns" -> sb.append("randread\nrandwrite\nread\nwrite\nrandrw\n");
            default -> {
                System.err.println("usage: ublkctl __complete devices|programs|targets|backends|patterns");
                return ExitCode.USAGE;
            }
        }
        System.out.print(sb);
        System.out.flush();
        return ExitCode.OK;
    }
}
