package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.CliException;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.DeviceIds;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.cli.common.TerminalText;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.DeviceRecord;
import dev.ublkctl.daemon.TraceView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "trace", aliases = "tracelog",
        description = {"Follow the bpf_printk output of device programs (as bpftool prog tracelog).",
                "The daemon keeps the newest 1024 lines per device; the daemon log has them too, rate-limited. "
                        + "Follows until Ctrl-C unless --no-follow; --json prints the lines kept now, once."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl prog trace", "  ublkctl prog trace -n 0", "  ublkctl prog trace -n 0 --no-follow --json"})
public final class ProgTraceCmd extends Cmd {
    @Option(names = {"-n", "--number"}, paramLabel = "ID", completionCandidates = DeviceIds.class,
            description = "Only this device's program (default: every device's, each line prefixed with its id).")
    Integer id;

    @Option(names = "--no-follow", description = "Print the lines kept now and exit.")
    boolean noFollow;

    @Option(names = "--interval", paramLabel = "MS", defaultValue = "200",
            description = "How often to ask the daemon for new lines while following (default ${DEFAULT-VALUE} ms).")
    long intervalMs;

    @Override
    protected int run() throws Exception {
        if (intervalMs < 10) throw CliException.usage("--interval must be at least 10 ms");
        try (DaemonClient c = connect()) {
            Map<Integer, Long> next = new LinkedHashMap<>();
            List<Integer> ids = new ArrayList<>();
            if (id != null) ids.add(id);
            else for (DeviceRecord r : c.listDevices()) ids.add(r.id());
            for (int d : ids) next.put(d, (long) -TraceView.MAX_LINES);   // first ask: what the ring holds
            List<TraceView> all = new ArrayList<>();
            do {
                for (int d : ids) {
                    TraceView t;
                    try {
                        t = c.trace(d, next.get(d));
                    } catch (dev.ublkctl.daemon.RpcException e) {
                        if (id != null || e.code() != dev.ublkctl.daemon.RpcException.NOT_FOUND) throw e;
                        continue; // a device deleted while following all of them
                    }
                    next.put(d, t.next());
                    if (json()) {
                        all.add(t);
                        continue;
                    }
                    if (t.lost() > 0) err().println(style().dim("device " + d + ": " + t.lost() + " lines lost (the ring holds "
                            + TraceView.MAX_LINES + ")"));
                    for (String line : t.lines())
                        out().println((id == null ? "[" + d + "] " : "") + TerminalText.safe(line));
                }
                out().flush();
                if (noFollow) break;
                Thread.sleep(intervalMs);
            } while (!json());
            if (json()) printJson(id != null ? all.getFirst() : all);
        }
        return ExitCode.OK;
    }
}
