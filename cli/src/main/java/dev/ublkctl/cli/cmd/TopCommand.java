package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.CliException;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.tui.Top;
import dev.ublkctl.tui.metrics.DeviceRow;
import dev.ublkctl.tui.metrics.MonitorFrame;
import dev.ublkctl.tui.metrics.QueueRates;
import dev.ublkctl.tui.source.ClientActions;
import dev.ublkctl.tui.source.ClientCalls;
import dev.ublkctl.tui.source.MonitorSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "top",
        description = {"Full-screen monitor of devices, queues and BPF programs.",
                "Devices table (IOPS, MB/s, in flight, share handled in BPF vs redirected, splits, errors, p99), "
                        + "per-queue details with charts, and the program's maps decoded with BTF. "
                        + "Reads everything over the daemon's RPC, so it shows devices made by any ublkctl command.",
                "Keys: arrows or j/k select, Enter details, s sort, r reverse, f filter, ? help, q quit."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl top", "  ublkctl top -d 0.5", "  ublkctl top --once", "  ublkctl top --once --json"})
public final class TopCommand extends Cmd {

    @Option(names = {"-d", "--delay"}, paramLabel = "SECS", defaultValue = "1",
            description = "Refresh interval in seconds (0.05..3600, default ${DEFAULT-VALUE}).")
    double delay;

    @Option(names = "--once", description = "Print one frame as plain text (rates over one interval) and exit: for scripts.")
    boolean once;

    @Option(names = "--width", paramLabel = "COLUMNS", description = "Width of the --once text (default: $COLUMNS, else 132).")
    Integer width;

    @Override
    protected int run() throws Exception {
        Duration interval = interval(delay);
        try (MonitorSource src = ClientCalls.source(session().runDir())) {
            if (once || json()) {
                int w = width != null ? width : envColumns();
                if (w < 40 || w > 1000) throw CliException.usage("--width must be 40..1000, not " + w);
                if (json()) {
                    MonitorFrame f = Top.sample(src, interval);
                    if (f == null) return ExitCode.INTERRUPTED;
                    printJson(toJson(f));
                } else if (Top.once(src, interval, w, out()) == null) {
                    return ExitCode.INTERRUPTED;
                }
                return ExitCode.OK;
            }
            try {
                Top.interactive(src, interval, new ClientActions(session().runDir()));
            } catch (IllegalStateException e) {
                throw CliException.usage(e.getMessage());
            }
        }
        return ExitCode.OK;
    }

    static Duration interval(double secs) {
        if (!(secs >= 0.05 && secs <= 3600)) throw CliException.usage("-d must be 0.05..3600 seconds, not " + secs);
        return Duration.ofNanos((long) (secs * 1e9));
    }

    private static int envColumns() {
        String c = System.getenv("COLUMNS");
        try {
            return c == null ? 132 : Integer.parseInt(c.strip());
        } catch (NumberFormatException e) {
            return 132;
        }
    }

    /** The frame as JSON: daemon state and one object per device with its rates (null = not known yet). */
    static Map<String, Object> toJson(MonitorFrame f) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("daemon", f.state().name().toLowerCase(java.util.Locale.ROOT));
        m.put("message", f.snapshot().message());
        List<Object> devs = new ArrayList<>();
        for (DeviceRow r : f.rows()) {
            var d = r.device();
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("id", d.id());
            o.put("target", d.target());
            o.put("backend", d.backend());
            o.put("state", r.stateWord());
            o.put("queues", d.queues());
            o.put("depth", d.depth());
            o.put("size", d.size());
            o.put("program", d.program());
            o.putAll(rates(r.total()));
            List<Object> qs = new ArrayList<>();
            for (QueueRates q : r.queues()) {
                Map<String, Object> qo = new LinkedHashMap<>();
                qo.put("queue", q.queue());
                qo.putAll(rates(q));
                qs.add(qo);
            }
            o.put("perQueue", qs);
            devs.add(o);
        }
        m.put("devices", devs);
        return m;
    }

    private static Map<String, Object> rates(QueueRates q) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("iops", num(q.iops()));
        o.put("mbPerSec", num(q.mbPerSec()));
        o.put("inFlight", q.inFlight());
        o.put("bpfShare", num(q.bpfShare()));
        o.put("redirectShare", num(q.redirectShare()));
        o.put("splitPerSec", num(q.splitPerSec()));
        o.put("errors", q.errors());
        o.put("errorsPerSec", num(q.errorsPerSec()));
        o.put("p99Nanos", num(q.p99Nanos()));
        o.put("progRuns", q.progRuns());
        o.put("progRunsPerSec", num(q.progRunsPerSec()));
        o.put("avgRunNanos", num(q.avgRunNanos()));
        return o;
    }

    private static Double num(double v) { return Double.isNaN(v) ? null : v; }
}
