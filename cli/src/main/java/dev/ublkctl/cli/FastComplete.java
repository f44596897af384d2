package dev.ublkctl.cli;

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
            case "programs" -> { for (String p : Programs.BUNDLED) sb.append(p).append('\n'); }
            case "targets" -> sb.append("null\nloop\nstripe\n");
            case "backends" -> sb.append("auto\nkernel-bpf\nkernel\nemulated\n");
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
