package dev.ublkctl.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The daemon's control plane on its own: RPC framing and errors, records, cancellation and
 * lifecycle, with a small in-test device so no engine is involved (the CLI tests run the engine).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DaemonRpcTest {

    /** A device that only keeps counters: enough to see the daemon route calls. */
    static final class CountingDevice implements HostedDevice {
        DeviceRecord rec;
        int statsCalls;
        final AtomicBoolean closed = new AtomicBoolean();
        final CountDownLatch benchStarted = new CountDownLatch(1);
        final AtomicBoolean benchCancelled = new AtomicBoolean();

        CountingDevice(DeviceRecord base) { rec = base.withState(DeviceRecord.LIVE); }

        @Override public DeviceRecord record() { return rec; }
        @Override public Object stats() { return Map.of("calls", ++statsCalls); }
        @Override public Object program() { return null; }
        @Override public Object dumpProgram() { throw RpcException.notFound("no program"); }
        @Override public Object maps() { return List.of(); }
        @Override public Object dumpMap(String name) { throw RpcException.notFound("no map " + name); }
        @Override public Object updateMap(String n, String k, String v) { throw RpcException.notFound("no map " + n); }
        @Override public void attach(String program) { attach(program, null); }
        @Override public void attach(String program, String engine) {
            rec = rec.withProgram(program, null, program, dev.ublkctl.bpf.jit.EngineKind.parse(engine).label());
        }
        @Override public void detach() { rec = rec.withProgram(null, null, null); }
        @Override public Object bench(BenchRequest req, RpcServer.Call call) throws InterruptedException {
            call.progress(Map.of("elapsed", 0));
            benchStarted.countDown();
            try {
                while (!call.cancelled()) Thread.sleep(10);
            } catch (InterruptedException e) {
                // cancellation interrupts the call's thread
            }
            benchCancelled.set(true);
            return Map.of();
        }
        @Override public Object verify(VerifyRequest req, RpcServer.Call call) { return Map.of("ok", true); }
        @Override public void close() { closed.set(true); }
    }

    @TempDir Path tmp;
    RunDir dir;
    Daemon daemon;
    CountingDevice last;

    @BeforeEach
    void start() throws Exception {
        dir = new RunDir(tmp.resolve("run"), true);
        daemon = new Daemon(dir, (id, req, base) -> last = new CountingDevice(base), m -> { });
        assertTrue(daemon.start());
    }

    @AfterEach
    void stop() {
        daemon.close();
    }

    static AddRequest nullDev(int id) {
        return new AddRequest(id, "null", 1, 16, 1 << 20, 512, List.of(), 0, null, "emulated", false);
    }

    @Test
    void addListStatsDeleteOverTheSocket() throws Exception {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.socket())));
        try (DaemonClient c = DaemonClient.connect(dir)) {
            DaemonInfo info = c.info();
            assertEquals(ProcessHandle.current().pid(), info.pid());
            assertEquals(List.of(), info.devices());

            DeviceRecord r = c.add(nullDev(-1));
            assertEquals(0, r.id());
            assertEquals(DeviceRecord.LIVE, r.state());
            assertEquals(ProcessHandle.current().pid(), r.daemonPid());
            assertEquals(1, c.add(nullDev(-1)).id());

            // records on disk, readable without the daemon
            List<DeviceRecord> onDisk = new DeviceRecords(dir).readAll();
            assertEquals(List.of(0, 1), onDisk.stream().map(DeviceRecord::id).toList());
            assertEquals(List.of(0, 1), new DeviceRecords(dir).ids());
            assertEquals(2, c.listDevices().size());

            assertEquals(1, c.stats(0).get("calls").asInt());
            assertEquals(2, c.stats(0).get("calls").asInt());
            // one round trip for every device's record and stats (what the monitor polls)
            var all = c.call("device.statsAll", Map.of(), com.fasterxml.jackson.databind.JsonNode.class);
            assertEquals(2, all.size());
            assertEquals(0, all.get(0).get("record").get("id").asInt());
            assertEquals(3, all.get(0).get("stats").get("calls").asInt());
            assertEquals(1, all.get(1).get("record").get("id").asInt());

            RpcException e = assertThrows(RpcException.class, () -> c.stats(7));
            assertEquals(RpcException.NOT_FOUND, e.code());
            RpcException dup = assertThrows(RpcException.class, () -> c.add(nullDev(1)));
            assertEquals(RpcException.EXISTS, dup.code());

            assertEquals("prog.o", c.attach(1, "prog.o").program());
            assertEquals("prog.o", new DeviceRecords(dir).read(1).orElseThrow().program());
            assertEquals("jit", new DeviceRecords(dir).read(1).orElseThrow().engine(), "the default engine");
            // the engine goes through the RPC (field engine) into the record and its file
            assertEquals("interp", c.attach(1, "prog.o", "interp").engine());
            assertEquals("interp", new DeviceRecords(dir).read(1).orElseThrow().engine());

            c.delete(0);
            assertTrue(new DeviceRecords(dir).read(0).isEmpty());
            assertEquals(List.of(1), c.deleteAll());
            assertTrue(last.closed.get());
        }
        // the last delete stops the daemon
        assertTrue(daemon.awaitStop(Duration.ofSeconds(5)));
    }

    @Test
    void protocolErrorsAreJsonRpcErrors() throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(dir.socket()));
            var out = Channels.newOutputStream(ch);
            var in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            out.write("{not json\n".getBytes(StandardCharsets.UTF_8));
            JsonNode r1 = Json.mapper().readTree(in.readLine());
            assertEquals(RpcException.PARSE_ERROR, r1.at("/error/code").asInt());
            assertTrue(r1.get("id").isNull());
            out.write("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"no.such\"}\n".getBytes(StandardCharsets.UTF_8));
            JsonNode r2 = Json.mapper().readTree(in.readLine());
            assertEquals(RpcException.METHOD_NOT_FOUND, r2.at("/error/code").asInt());
            assertEquals(5, r2.get("id").asInt());
            out.write("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"device.get\",\"params\":{}}\n".getBytes(StandardCharsets.UTF_8));
            JsonNode r3 = Json.mapper().readTree(in.readLine());
            assertEquals(RpcException.INVALID_PARAMS, r3.at("/error/code").asInt());
        }
    }

    @Test
    void closingTheClientCancelsALongCall() throws Exception {
        try (DaemonClient setup = DaemonClient.connect(dir)) {
            setup.add(nullDev(-1));
        }
        DaemonClient c = DaemonClient.connect(dir);
        var progress = new java.util.concurrent.atomic.AtomicInteger();
        Thread t = Thread.ofVirtual().start(() -> {
            try {
                c.bench(0, Map.of("rw", "read", "bs", 4096, "iodepth", 1, "numjobs", 1, "runtime", 100.0),
                        Duration.ofSeconds(30), p -> progress.incrementAndGet());
            } catch (RpcException e) {
                assertEquals(RpcException.CANCELLED, e.code());
            }
        });
        assertTrue(last.benchStarted.await(10, TimeUnit.SECONDS));
        c.close();
        t.join(10_000);
        assertFalse(t.isAlive());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!last.benchCancelled.get() && System.nanoTime() < deadline) Thread.sleep(10);
        assertTrue(last.benchCancelled.get(), "the daemon stopped the bench when its caller went away");
    }

    @Test
    void recordsOfADeadDaemonReadAsDeadAndASecondDaemonIsRefused() throws Exception {
        // a process that has exited: its pid names no live process with that start time
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        DeviceRecord stale = new DeviceRecord(9, DeviceRecord.LIVE, "null", "emulated", 1, 16, 1 << 20, 512,
                List.of(), 0, null, null, null, p.pid(), 1, "2026-01-01T00:00:00Z", null, false);
        new DeviceRecords(dir).write(stale);
        assertEquals(DeviceRecord.DEAD, new DeviceRecords(dir).read(9).orElseThrow().state());

        Daemon second = new Daemon(dir, (id, req, base) -> new CountingDevice(base), m -> { });
        assertFalse(second.start(), "one daemon per run dir");
    }

    @Test
    void noDaemonMeansUnavailable() {
        RunDir empty = new RunDir(tmp.resolve("empty"), true);
        assertThrows(DaemonUnavailableException.class, () -> DaemonClient.connect(empty));
    }
}
