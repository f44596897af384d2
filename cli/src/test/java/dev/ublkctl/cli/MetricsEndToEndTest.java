package dev.ublkctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.daemon.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ublkctl metrics} checked by the Prometheus tools themselves: {@code promtool check metrics}
 * lints the text, and a real Prometheus server (Debian's {@code prometheus}, started here on a
 * loopback port) scrapes the daemon's /metrics; after a bench, PromQL over its HTTP API must give
 * the counters {@code stats --json} gives.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class MetricsEndToEndTest {
    @TempDir Path tmp;
    CliHarness cli;
    Process prometheus;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeEach
    void setUp() {
        cli = new CliHarness(tmp.resolve("run"));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (prometheus != null) {
            prometheus.destroy();
            if (!prometheus.waitFor(10, TimeUnit.SECONDS)) prometheus.destroyForcibly().waitFor();
        }
        cli.close();
    }

    @Test
    void promtoolAcceptsTheTextAndPrometheusSeesTheCountersStatsGives() throws Exception {
        Path promtool = tool("promtool"), server = tool("prometheus");
        CliHarness.ok(cli.run("add", "-t", "null", "-q", "2", "--bpf", "null", "--ops", "null_redirect_ops"));
        // every 4th tag to the server, so both paths count
        CliHarness.ok(cli.run("map", "update", "-n", "0", "null_cfg", "0", "hex:00 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00"));

        var listen = cli.run("metrics", "--listen", "127.0.0.1:0", "--json");
        CliHarness.ok(listen);
        String target = listen.json().get("listen").asText();
        assertEquals(target + "\n", Files.readString(cli.runDir.resolve("metrics.listen")), "the address is remembered in the run dir");

        int port;
        try (ServerSocket s = new ServerSocket(0)) { port = s.getLocalPort(); }
        Path conf = tmp.resolve("prometheus.yml");
        Files.writeString(conf, """
                global:
                  scrape_interval: 500ms
                  scrape_timeout: 400ms
                scrape_configs:
                  - job_name: ublkctl
                    static_configs:
                      - targets: ['%s']
                """.formatted(target));
        prometheus = new ProcessBuilder(server.toString(), "--config.file=" + conf, "--storage.tsdb.path=" + tmp.resolve("tsdb"),
                "--web.listen-address=127.0.0.1:" + port, "--log.level=warn")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("prometheus.log").toFile()).start();
        String api = "http://127.0.0.1:" + port;
        // a first scrape before the load, so rate() has a sample from before it
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        while (true) {
            JsonNode up = query(api, "up{job=\"ublkctl\"} == 1");
            if (up != null && up.size() == 1) break;
            if (System.nanoTime() > deadline)
                throw new AssertionError("Prometheus did not scrape " + target + ": " + Files.readString(tmp.resolve("prometheus.log")));
            Thread.sleep(200);
        }

        CliHarness.ok(cli.run("bench", "-n", "0", "--runtime", "1", "--rw", "randrw", "--iodepth", "4", "--numjobs", "2"));
        var stats = cli.run("stats", "-n", "0", "--json");
        CliHarness.ok(stats);
        JsonNode total = stats.json().get("total");
        assertTrue(total.get("ios").asLong() > 0 && total.get("redirected").asLong() > 0, stats.out());
        double benchDone = System.currentTimeMillis() / 1000.0;

        // the device is idle now: the first scrape after benchDone has the final counters
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        while (true) {
            JsonNode r = query(api, "timestamp(ublk_io_total{device=\"0\",queue=\"0\",op=\"read\"})");
            if (r != null && r.size() == 1 && r.get(0).get("value").get(1).asDouble() > benchDone + 0.1) break;
            if (System.nanoTime() > deadline)
                throw new AssertionError("Prometheus did not scrape after the bench: " + r + "\n"
                        + Files.readString(tmp.resolve("prometheus.log")));
            Thread.sleep(200);
        }
        assertEquals(total.get("ios").asLong(), scalar(api, "sum(ublk_io_total{device=\"0\"})"));
        assertEquals(total.get("reads").asLong(), scalar(api, "sum(ublk_io_total{device=\"0\",op=\"read\"})"));
        assertEquals(total.get("writes").asLong(), scalar(api, "sum(ublk_io_total{device=\"0\",op=\"write\"})"));
        assertEquals(total.get("bytes").asLong(), scalar(api, "sum(ublk_io_bytes_total{device=\"0\"})"));
        assertEquals(total.get("bpfHandled").asLong(), scalar(api, "sum(ublk_io_path_total{device=\"0\",path=\"bpf\"})"));
        assertEquals(total.get("redirected").asLong(), scalar(api, "sum(ublk_io_path_total{device=\"0\",path=\"server\"})"));
        assertEquals(total.get("progRuns").asLong(), scalar(api, "sum(ublk_bpf_program_runs_total{device=\"0\"})"));
        assertEquals(total.get("latency").get("count").asLong(), scalar(api, "ublk_io_latency_seconds_count{device=\"0\"}"));
        assertEquals(1, scalar(api, "ublk_device_info{device=\"0\",target=\"null\",program=\"null_redirect_ops\"}"));
        // the three queries of docs/metrics.md parse and answer
        for (String q : new String[]{
                "sum by (device, path) (rate(ublk_io_path_total[1m]))",
                "sum by (device) (rate(ublk_io_path_total{path=\"server\"}[1m])) / sum by (device) (rate(ublk_io_path_total{path=~\"bpf|server\"}[1m]))",
                "histogram_quantile(0.99, sum by (device, le) (rate(ublk_io_latency_seconds_bucket[1m])))"}) {
            JsonNode r = query(api, q);
            assertTrue(r != null && !r.isEmpty(), q + " gave " + r);
        }

        var text = cli.run("metrics");
        CliHarness.ok(text);
        Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
        p.getOutputStream().write(text.out().getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String lint = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "promtool check metrics: " + lint);
        var om = cli.run("metrics", "--openmetrics");
        CliHarness.ok(om);
        assertTrue(om.out().endsWith("# EOF\n"), "OpenMetrics text ends with # EOF");

        // a new daemon serves the remembered address again
        CliHarness.ok(cli.run("del", "-a"));
        assertTrue(CliHarness.waitGone(CliHarness.daemons(), Duration.ofSeconds(20)), "the daemon exits with its last device");
        CliHarness.ok(cli.run("add", "-t", "null"));
        var again = http.send(HttpRequest.newBuilder(URI.create("http://" + target + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, again.statusCode());
        assertTrue(again.body().contains("ublk_device_info{"), again.body());
        CliHarness.ok(cli.run("metrics", "--no-listen"));
        assertFalse(Files.exists(cli.runDir.resolve("metrics.listen")));
        assertTrue(cli.run("metrics").out().contains("ublk_io_total"), "printing still works without a listener");
    }

    /** The instant vector {@code q} evaluates to now, or null if Prometheus is not answering yet. */
    private JsonNode query(String api, String q) throws InterruptedException {
        try {
            var resp = http.send(HttpRequest.newBuilder(URI.create(api + "/api/v1/query?query=" + URLEncoder.encode(q, StandardCharsets.UTF_8)))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            if (resp.statusCode() != 200) return null;
            JsonNode j = Json.mapper().readTree(resp.body());
            return "success".equals(j.path("status").asText()) ? j.get("data").get("result") : null;
        } catch (IOException e) {
            return null;   // still starting
        }
    }

    private long scalar(String api, String q) throws InterruptedException {
        JsonNode r = query(api, q);
        assertTrue(r != null && r.size() == 1, q + " gave " + r);
        return Math.round(r.get(0).get("value").get(1).asDouble());
    }

    private static Path tool(String name) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(d, name);
            if (Files.isExecutable(p)) return p;
        }
        System.out.println("MetricsEndToEndTest: skipped: " + name + " not installed (scripts/setup installs the Debian prometheus package)");
        Assumptions.abort(name + " not installed");
        return null;
    }
}
