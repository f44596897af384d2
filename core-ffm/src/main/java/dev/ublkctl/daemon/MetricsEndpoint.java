package dev.ublkctl.daemon;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The daemon's metrics: one scrape as text ({@code metrics.scrape}) and the {@code /metrics}
 * HTTP endpoint ({@code metrics.listen}), both over one registry holding {@link FleetMetrics}.
 * The listen address is remembered in the run dir ({@link RunDir#metricsListenFile()}), so the
 * next daemon on that run dir serves it again.
 */
public final class MetricsEndpoint implements AutoCloseable {

    /** The answer of {@code metrics.scrape}: the text, and where /metrics is served (null: nowhere). */
    public record Scrape(String text, String contentType, String listen) { }

    /** The answer of {@code metrics.listen}. */
    public record Listen(String listen, String url) { }

    /** A parsed {@code HOST:PORT} ({@code [v6]:PORT}; port 0 picks a free one). */
    public record Address(String host, int port) {
        public static Address parse(String s) {
            if (s == null || s.isBlank()) throw new IllegalArgumentException("empty address (HOST:PORT)");
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || colon == s.length() - 1)
                throw new IllegalArgumentException("address '" + s + "' is not HOST:PORT (e.g. 127.0.0.1:9464)");
            String host = s.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            int port;
            try {
                port = Integer.parseInt(s.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("port of '" + s + "' is not a number");
            }
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port " + port + " out of range 0..65535");
            return new Address(host, port);
        }

        @Override public String toString() { return (host.contains(":") ? "[" + host + "]" : host) + ":" + port; }
    }

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final RunDir dir;
    private final Consumer<String> log;
    private HTTPServer server;
    private Address address;

    public MetricsEndpoint(RunDir dir, FleetMetrics metrics, Consumer<String> log) {
        this.dir = dir;
        this.log = log;
        registry.register(metrics);
    }

    /** One scrape in the Prometheus text format 0.0.4, or OpenMetrics 1.0 with {@code openMetrics}. */
    public synchronized Scrape scrape(boolean openMetrics) {
        var out = new ByteArrayOutputStream(16384);
        try {
            if (openMetrics) OpenMetricsTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.DEFAULT);
            else PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.DEFAULT);
        } catch (IOException e) {
            throw RpcException.failed("writing metrics: " + e.getMessage());
        }
        String type = openMetrics ? OpenMetricsTextFormatWriter.CONTENT_TYPE : PrometheusTextFormatWriter.CONTENT_TYPE;
        return new Scrape(out.toString(StandardCharsets.UTF_8), type, address == null ? null : address.toString());
    }

    /**
     * Serves /metrics at {@code addr} from now on (null: stops serving) and remembers it in the run
     * dir; a previous listener is closed first.
     */
    public synchronized Listen listen(Address addr) throws IOException {
        Address before = address;
        stopServer();
        Path f = dir.metricsListenFile();
        if (addr == null) {
            Files.deleteIfExists(f);
            return new Listen(null, null);
        }
        try {
            start(addr);
        } catch (IOException e) {
            // the new address cannot be bound: keep serving where it was (the run dir still says so)
            if (before != null) {
                try { start(before); } catch (IOException again) { log.accept("warning: metrics: " + again.getMessage()); }
            }
            throw e;
        }
        Files.writeString(f, address + "\n");
        return new Listen(address.toString(), "http://" + address + "/metrics");
    }

    /** At daemon start: serves the address the run dir remembers, if any; a failure is logged, not fatal. */
    public synchronized void resume() {
        Path f = dir.metricsListenFile();
        if (!Files.exists(f)) return;
        try {
            start(Address.parse(Files.readString(f).strip()));
        } catch (IOException | IllegalArgumentException e) {
            log.accept("warning: cannot serve metrics at the address in " + f + ": " + e.getMessage());
        }
    }

    private void start(Address addr) throws IOException {
        try {
            server = HTTPServer.builder().hostname(addr.host()).port(addr.port()).registry(registry).buildAndStart();
        } catch (IOException e) {
            throw new IOException("cannot listen on " + addr + ": " + e.getMessage(), e);
        }
        address = new Address(addr.host(), server.getPort());
        log.accept("serving metrics on http://" + address + "/metrics");
    }

    public synchronized String address() { return address == null ? null : address.toString(); }

    private void stopServer() {
        if (server != null) server.close();
        server = null;
        address = null;
    }

    @Override
    public synchronized void close() { stopServer(); }
}
