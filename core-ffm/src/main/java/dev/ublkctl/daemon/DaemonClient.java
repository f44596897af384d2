package dev.ublkctl.daemon;

import dev.ublkctl.bpf.jit.EngineKind;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Typed JSON-RPC client of the ublkctl daemon, for the command line, the shell and the monitor.
 * One connection; calls are sequential (synchronized). Every call has a timeout after which
 * the connection is closed and {@link DaemonUnavailableException} thrown, so a hung daemon can
 * never hang a client. Errors from the daemon come back as {@link RpcException} with its code.
 * {@link #close()} from another thread cancels a running call (the daemon stops the work).
 */
public final class DaemonClient implements AutoCloseable {

    /** Default per-call timeout for quick calls. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(15);

    private final ObjectMapper json = Json.mapper();
    private final RunDir dir;
    private final SocketChannel ch;
    private final BufferedReader in;
    private final OutputStream out;
    private final AtomicLong ids = new AtomicLong();
    private volatile boolean closed;

    private DaemonClient(RunDir dir, SocketChannel ch) {
        this.dir = dir;
        this.ch = ch;
        this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
        this.out = Channels.newOutputStream(ch);
    }

    /** Connects to the daemon of {@code dir}, or throws {@link DaemonUnavailableException}. */
    public static DaemonClient connect(RunDir dir) {
        try {
            dir.checkIfExists();   // a socket in a directory someone else controls is not our daemon
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e.getMessage(), e);
        }
        if (!Files.exists(dir.socket())) {
            throw new DaemonUnavailableException("no daemon running (no socket at " + dir.socket() + ")");
        }
        try {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(dir.socket()));
            } catch (IOException e) {
                ch.close();
                throw e;
            }
            return new DaemonClient(dir, ch);
        } catch (IOException e) {
            throw new DaemonUnavailableException("daemon not answering on " + dir.socket() + ": " + e.getMessage());
        }
    }

    /** Connects to the default run dir ({@link RunDir#resolve()}). */
    public static DaemonClient connect() { return connect(RunDir.resolve()); }

    public RunDir runDir() { return dir; }

    // ---- typed methods ------------------------------------------------------------------

    /** {@code daemon.info}: pid, version, run dir, device ids. */
    public DaemonInfo info() { return call("daemon.info", Map.of(), DaemonInfo.class); }

    /** {@code device.list}: every device of this daemon, by id. */
    public List<DeviceRecord> listDevices() {
        return call("device.list", Map.of(), new TypeReference<List<DeviceRecord>>() { });
    }

    /** {@code device.get}: one device. */
    public DeviceRecord device(int id) { return call("device.get", Map.of("id", id), DeviceRecord.class); }

    /** {@code device.add}: creates and starts a device, returns its record once it is ready. */
    public DeviceRecord add(AddRequest req) { return call("device.add", req, DeviceRecord.class, Duration.ofSeconds(60), null); }

    /**
     * {@code device.recover}: serves again a device whose daemon died, as {@code req} (built from its
     * record) describes; waits while the kernel notices the old daemon is gone.
     */
    public DeviceRecord recover(AddRequest req) { return call("device.recover", req, DeviceRecord.class, Duration.ofSeconds(90), null); }

    /** {@code device.del}: stops a device and releases everything it holds. */
    public DeviceRecord delete(int id) { return call("device.del", Map.of("id", id), DeviceRecord.class, Duration.ofSeconds(60), null); }

    /** {@code device.delAll}: deletes every device; returns the ids deleted. */
    public List<Integer> deleteAll() {
        return call("device.delAll", Map.of(), json.getTypeFactory().constructCollectionType(List.class, Integer.class),
                Duration.ofSeconds(120), null);
    }

    /**
     * {@code device.attach}: swaps in a program.
     * @param program a bundled name or an absolute object path
     * @param ops     which struct ublk_bpf_ops (variable name or .id), null for the first
     */
    public DeviceRecord attach(int id, String program, String ops) { return attach(id, program, ops, null); }

    /** {@code device.attach} with the engine to run it on (null: the daemon's default, jit). */
    public DeviceRecord attach(int id, String program, String ops, EngineKind engine) {
        return attach(id, program, ops, engine, java.util.List.of());
    }

    /** {@code device.attach} with map entries the program gets before it attaches. */
    public DeviceRecord attach(int id, String program, String ops, EngineKind engine, java.util.List<MapSetting> maps) {
        Map<String, Object> p = new java.util.LinkedHashMap<>();
        p.put("id", id);
        p.put("program", program);
        if (ops != null) p.put("ops", ops);
        if (engine != null) p.put("engine", engine.label());
        if (!maps.isEmpty()) p.put("maps", maps);
        return call("device.attach", p, DeviceRecord.class, Duration.ofSeconds(60), null);
    }

    /** {@code device.export}: serves the device over NBD; the answer says where. */
    public ExportView export(ExportRequest req) {
        java.util.Map<String, Object> p = new java.util.HashMap<>();
        p.put("id", req.id());
        if (req.socket() != null) p.put("socket", req.socket());
        if (req.listen() != null) p.put("listen", req.listen());
        if (req.name() != null) p.put("name", req.name());
        p.put("readOnly", req.readOnly());
        return call("device.export", p, ExportView.class, DEFAULT_TIMEOUT, null);
    }

    /** {@code device.unexport}: the export that stopped. */
    public ExportView unexport(int id) {
        return call("device.unexport", Map.of("id", id), ExportView.class, DEFAULT_TIMEOUT, null);
    }

    /** {@code device.detach}: every I/O goes to the Java target afterwards. */
    public DeviceRecord detach(int id) {
        return call("device.detach", Map.of("id", id), DeviceRecord.class, Duration.ofSeconds(60), null);
    }

    /** {@code device.stats}: a snapshot of the per-queue counters, with the latency histogram. */
    public StatsView stats(int id) { return call("device.stats", Map.of("id", id), StatsView.class); }

    /** {@code device.statsAll}: every device's record and stats, one round trip (what a monitor polls). */
    public List<StatsView.OfDevice> statsAll() {
        return call("device.statsAll", Map.of(), new TypeReference<List<StatsView.OfDevice>>() { });
    }

    /** {@code prog.trace}: the program's bpf_printk lines numbered {@code after} on (negative: the newest -after). */
    public TraceView trace(int id, long after) {
        return call("prog.trace", Map.of("id", id, "after", after), TraceView.class);
    }

    /** {@code metrics.scrape}: every device's counters as Prometheus text (OpenMetrics with {@code openMetrics}). */
    public MetricsEndpoint.Scrape scrapeMetrics(boolean openMetrics) {
        return call("metrics.scrape", Map.of("openMetrics", openMetrics), MetricsEndpoint.Scrape.class);
    }

    /** {@code metrics.listen}: serve /metrics at {@code address} (HOST:PORT), or stop with null. */
    public MetricsEndpoint.Listen listenMetrics(String address) {
        java.util.Map<String, Object> p = new java.util.HashMap<>();
        p.put("address", address);
        return call("metrics.listen", p, MetricsEndpoint.Listen.class);
    }

    /** {@code device.statsAll} with per-queue entries only for device {@code queuesOf} (-1: none), totals for all. */
    public List<StatsView.OfDevice> statsAll(int queuesOf) {
        return call("device.statsAll", Map.of("queuesOf", queuesOf), new TypeReference<List<StatsView.OfDevice>>() { });
    }

    /** {@code prog.show}: the program attached to a device, or null. */
    public ProgramView program(int id) { return call("prog.show", Map.of("id", id), ProgramView.class); }

    /** {@code prog.dump}: the attached program's instructions, per callback. */
    public List<ProgramView.Listing> dumpProgram(int id) {
        return call("prog.dump", Map.of("id", id), new TypeReference<List<ProgramView.Listing>>() { });
    }

    /** {@code map.list}: the maps of a device's program. */
    public List<MapView> maps(int id) { return call("map.list", Map.of("id", id), new TypeReference<List<MapView>>() { }); }

    /** {@code map.dump}: every entry of one map, BTF-formatted where the types are known. */
    public List<MapView.Entry> dumpMap(int id, String name) {
        return call("map.dump", Map.of("id", id, "name", name), new TypeReference<List<MapView.Entry>>() { });
    }

    /** {@code map.update}: sets one entry; key and value as given on the command line. */
    public MapView.Update updateMap(int id, String name, String key, String value) {
        return call("map.update", Map.of("id", id, "name", name, "key", key, "value", value), MapView.Update.class);
    }

    /** {@code device.bench}: runs a workload on the device; progress notifications go to {@code progress}. */
    public BenchView bench(int id, BenchRequest req, Duration timeout, Consumer<BenchView.Progress> progress) {
        return call("device.bench", withId(id, req), json.constructType(BenchView.class), timeout, progressOf(progress));
    }

    /** {@code device.verify}: writes, reads back and checks the device's data. */
    public VerifyView verify(int id, VerifyRequest req, Duration timeout, Consumer<BenchView.Progress> progress) {
        return call("device.verify", withId(id, req), json.constructType(VerifyView.class), timeout, progressOf(progress));
    }

    /** A request's params with the device id added (the id is the method's, not the request's). */
    private ObjectNode withId(int id, Object req) {
        ObjectNode p = json.createObjectNode();
        p.put("id", id);
        p.setAll((ObjectNode) json.valueToTree(req));
        return p;
    }

    private Consumer<JsonNode> progressOf(Consumer<BenchView.Progress> progress) {
        if (progress == null) return null;
        return n -> {
            try {
                progress.accept(json.treeToValue(n, BenchView.Progress.class));
            } catch (IOException e) {
                // a progress line of another shape: the call's answer still comes
            }
        };
    }

    // ---- the one request path under the typed methods ---------------------------------------

    <T> T call(String method, Object params, Class<T> type) {
        return call(method, params, json.constructType(type), DEFAULT_TIMEOUT, null);
    }

    <T> T call(String method, Object params, TypeReference<T> type) {
        return call(method, params, json.getTypeFactory().constructType(type), DEFAULT_TIMEOUT, null);
    }

    <T> T call(String method, Object params, Class<T> type, Duration timeout, Consumer<JsonNode> progress) {
        return call(method, params, json.constructType(type), timeout, progress);
    }

    /**
     * Sends one request and waits for its answer, passing progress notifications on.
     * @throws RpcException the daemon's error
     * @throws DaemonUnavailableException the connection broke or the timeout passed
     */
    synchronized <T> T call(String method, Object params, JavaType type, Duration timeout, Consumer<JsonNode> progress) {
        long id = ids.incrementAndGet();
        ObjectNode req = json.createObjectNode();
        req.put("jsonrpc", "2.0");
        req.put("id", id);
        req.put("method", method);
        req.set("params", json.valueToTree(params == null ? Map.of() : params));
        Thread caller = Thread.currentThread();
        var timedOut = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.ScheduledFuture<?> watchdog = WATCHDOG.schedule(() -> {
            timedOut.set(true);
            closeQuietly();
        }, timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
        try {
            out.write((json.writeValueAsString(req) + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            while (true) {
                String line = in.readLine();
                if (line == null) throw new DaemonUnavailableException("daemon closed the connection during " + method);
                JsonNode msg = json.readTree(line);
                if (!msg.has("id") && "progress".equals(msg.path("method").asText())) {
                    if (progress != null) progress.accept(msg.path("params"));
                    continue;
                }
                if (msg.path("id").asLong(-1) != id) continue;
                if (msg.has("error")) {
                    JsonNode e = msg.get("error");
                    throw new RpcException(e.path("code").asInt(RpcException.FAILED), e.path("message").asText("error"), null);
                }
                JsonNode result = msg.get("result");
                if (type.getRawClass() == JsonNode.class) {
                    @SuppressWarnings("unchecked") T t = (T) result;
                    return t;
                }
                return json.treeToValue(result, type);
            }
        } catch (IOException e) {
            if (timedOut.get()) {
                throw new DaemonUnavailableException("daemon did not answer " + method + " within " + timeout.toSeconds() + " s");
            }
            if (closed) throw new RpcException(RpcException.CANCELLED, "cancelled");
            throw new DaemonUnavailableException("lost the daemon during " + method + ": " + e.getMessage());
        } finally {
            watchdog.cancel(false);
            if (caller.isInterrupted() && !closed) Thread.interrupted();
        }
    }

    /**
     * One timer thread for every client's call timeouts: a monitor makes tens of calls a second,
     * and a thread per call cost more than the calls.
     */
    private static final java.util.concurrent.ScheduledThreadPoolExecutor WATCHDOG = newWatchdog();

    private static java.util.concurrent.ScheduledThreadPoolExecutor newWatchdog() {
        var t = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
            Thread th = new Thread(r, "rpc-timeouts");
            th.setDaemon(true);
            return th;
        });
        t.setRemoveOnCancelPolicy(true);  // cancelled timeouts leave the queue at once
        return t;
    }

    private void closeQuietly() {
        try { ch.close(); } catch (IOException ignored) { }
    }

    /** False once closed (by {@link #close()}, a timeout or the daemon). */
    public boolean isOpen() { return ch.isOpen(); }

    /** Closes the connection; a call running on another thread ends with {@code cancelled}. */
    @Override
    public void close() {
        closed = true;
        closeQuietly();
    }
}
