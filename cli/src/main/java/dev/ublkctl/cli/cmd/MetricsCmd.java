package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.CliException;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.DaemonUnavailableException;
import dev.ublkctl.daemon.MetricsEndpoint;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;

@Command(name = "metrics",
        description = {"Print every device's counters in the Prometheus text format, or serve them over HTTP.",
                "Without options: one scrape on standard output (ublk_io_total, ublk_io_path_total, ublk_io_latency_seconds, ...; "
                        + "docs/metrics.md says what each means). --listen makes the daemon serve /metrics at HOST:PORT for as "
                        + "long as it runs; the address is remembered in the run dir, so the next daemon serves it too."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl metrics",
                "  ublkctl metrics --openmetrics",
                "  ublkctl metrics --listen 127.0.0.1:9464",
                "  ublkctl metrics --no-listen"})
public final class MetricsCmd extends Cmd {

    static final class Serve {
        @Option(names = "--listen", paramLabel = "HOST:PORT",
                description = "Serve /metrics at HOST:PORT (port 0: any free port; the answer says which).")
        String listen;

        @Option(names = "--no-listen", description = "Stop serving /metrics and forget the address.")
        boolean stop;
    }

    @ArgGroup(exclusive = true)
    Serve serve;

    @Option(names = "--openmetrics", description = "OpenMetrics 1.0 text instead of the Prometheus 0.0.4 format.")
    boolean openMetrics;

    @Override
    protected int run() throws IOException {
        if (serve != null) return serve();
        try (DaemonClient c = connect()) {
            MetricsEndpoint.Scrape s = c.scrapeMetrics(openMetrics);
            if (json()) printJson(s);
            else out().print(s.text());
            out().flush();
        }
        return ExitCode.OK;
    }

    private int serve() throws IOException {
        String addr = serve.stop ? null : serve.listen;
        if (addr != null) {
            try {
                MetricsEndpoint.Address.parse(addr);
            } catch (IllegalArgumentException e) {
                throw CliException.usage("--listen: " + e.getMessage());
            }
        }
        MetricsEndpoint.Listen l;
        try (DaemonClient c = connect()) {
            l = c.listenMetrics(addr);
        } catch (DaemonUnavailableException e) {
            // no daemon now: the next one (started by add) reads the run dir and serves it
            var dir = session().runDir();
            dir.create();
            if (addr == null) Files.deleteIfExists(dir.metricsListenFile());
            else Files.writeString(dir.metricsListenFile(), addr + "\n");
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("listen", addr);
            j.put("serving", false);
            if (json()) printJson(j);
            else out().println(addr == null ? "metrics: not served (no daemon running; address forgotten)"
                    : "metrics: no daemon running; the next daemon serves http://" + addr + "/metrics");
            return ExitCode.OK;
        }
        if (json()) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("listen", l.listen());
            j.put("serving", l.listen() != null);
            j.put("url", l.url());
            printJson(j);
        } else {
            out().println(l.url() == null ? "metrics: not served" : "metrics: serving " + l.url());
        }
        return ExitCode.OK;
    }
}
