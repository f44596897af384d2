package dev.ublkctl.daemon;

import dev.ublkctl.bpf.jit.EngineKind;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.target.TargetType;
import dev.ublkctl.ublk.Backend;
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
        /** The stats' takenNanos counts the calls, so the test sees each call reach this device. */
        @Override public StatsView stats() {
            var none = new StatsView.Latency(0, 0, 0, 0, 0, 0, 0, List.of());
            var q = new StatsView.Queue(-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, Map.of(), 0, none, 0, 0);
            return new StatsView(rec.id(), ++statsCalls, q, List.of());
        }
        @Override public ProgramView program() { return null; }
        @Override public List<ProgramView.Listing> dumpProgram() { throw RpcException.notFound("no program"); }
        @Override public List<MapView> maps() { return List.of(); }
        @Override public List<MapView.Entry> dumpMap(String name) { throw RpcException.notFound("no map " + name); }
        @Override public MapView.Update updateMap(String n, String k, String v) { throw RpcException.notFound("no map " + n); }
        @Override public void attach(ProgramRef program) { attach(program, EngineKind.DEFAULT); }
        @Override public void attach(ProgramRef program, EngineKind engine) {
            rec = rec.withProgram(program.object(), null, program.toString(), engine.label());
        }
        @Override public void detach() { rec = rec.withProgram(null, null, null); }
        @Override public BenchView bench(BenchRequest req, RpcServer.Call call) throws InterruptedException {
            call.progress(new BenchView.Progress(0, 0, 0, 0, 0));
            benchStarted.countDown();
            try {
                while (!call.cancelled()) Thread.sleep(10);
            } catch (InterruptedException e) {
                // cancellation interrupts the call's thread
            }
            benchCancelled.set(true);
            return null;
        }
        @Override public VerifyView verify(VerifyRequest req, RpcServer.Call call) {
            return new VerifyView(rec.id(), true, req.offset(), 0, 0, req.bs(), 0, null);
        }
        /** When set, close waits for it (a device whose teardown takes time). */
        volatile CountDownLatch closeGate;
        @Override public void close() {
            CountDownLatch g = closeGate;
            if (g != null) {
                try { g.await(10, TimeUnit.SECONDS); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
            }
            closed.set(true);
        }
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
        return new AddRequest(id, TargetType.NULL, 1, 16, 1 << 20, 512, List.of(), 0, null, null, Backend.EMULATED, false, 0);
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

            assertEquals(1, c.stats(0).takenNanos());
            assertEquals(2, c.stats(0).takenNanos());
            // one round trip for every device's record and stats (what the monitor polls)
            var all = c.statsAll();
            assertEquals(2, all.size());
            assertEquals(0, all.get(0).record().id());
            assertEquals(3, all.get(0).stats().takenNanos());
            assertEquals(1, all.get(1).record().id());

            RpcException e = assertThrows(RpcException.class, () -> c.stats(7));
            assertEquals(RpcException.NOT_FOUND, e.code());
            RpcException dup = assertThrows(RpcException.class, () -> c.add(nullDev(1)));
            assertEquals(RpcException.EXISTS, dup.code());

            assertEquals("/prog.o", c.attach(1, "/prog.o", null).program());
            assertEquals("/prog.o:7", c.attach(1, "/prog.o", "7").bpf());
            assertEquals("/prog.o", new DeviceRecords(dir).read(1).orElseThrow().program());
            assertEquals("jit", new DeviceRecords(dir).read(1).orElseThrow().engine(), "the default engine");
            // the engine goes through the RPC (field engine) into the record and its file
            assertEquals("interp", c.attach(1, "/prog.o", null, EngineKind.INTERP).engine());
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

    /** One raw request on a fresh connection; the answer's JSON. */
    private JsonNode raw(String method, String params) throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(dir.socket()));
            Channels.newOutputStream(ch).write(("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"" + method
                    + "\",\"params\":" + params + "}\n").getBytes(StandardCharsets.UTF_8));
            var in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            return Json.mapper().readTree(in.readLine());
        }
    }

    @Test
    void addOverRpcIsCheckedAsTheCommandLineChecksIt() throws Exception {
        // fields left out take the command line's defaults: the lowest free id, not 0 twice
        JsonNode a = raw("device.add", "{\"target\":\"null\",\"backend\":\"emulated\"}");
        assertEquals(0, a.at("/result/id").asInt(), a.toString());
        assertEquals(AddRequest.DEFAULT_QUEUES, a.at("/result/queues").asInt(), a.toString());
        assertEquals(AddRequest.DEFAULT_DEPTH, a.at("/result/depth").asInt(), a.toString());
        assertEquals("null", a.at("/result/target").asText());
        assertEquals("emulated", a.at("/result/backend").asText());
        assertEquals(1, raw("device.add", "{\"target\":\"null\"}").at("/result/id").asInt());

        record Bad(String params, String message) { }
        String missing = tmp.resolve("missing.img").toString();
        for (Bad b : List.of(
                new Bad("{}", "a device needs a target (null, loop, stripe, fault_inject, qcow2, nbd)"),
                new Bad("{\"target\":null}", "a device needs a target (null, loop, stripe, fault_inject, qcow2, nbd)"),
                new Bad("{\"target\":\"raid5\"}", "unknown target 'raid5' (null, loop, stripe, fault_inject, qcow2, nbd)"),
                new Bad("{\"target\":\"null\",\"backend\":\"cloud\"}", "unknown backend 'cloud' (auto, kernel-bpf, kernel, emulated)"),
                new Bad("{\"target\":\"stripe\",\"files\":[\"/etc/hostname\",\"/etc/hostname\"],\"chunk\":-4096}",
                        "chunk must be >= 0 (0: the default), got -4096"),
                new Bad("{\"target\":\"stripe\",\"files\":[\"/etc/hostname\",\"/etc/hostname\"],\"chunk\":1048576}",
                        "stripe chunk must be a power of two in 4 KiB..512 KiB, got 1048576"),
                new Bad("{\"target\":\"null\",\"depth\":4097}", "depth must be 1.." + AddRequest.MAX_DEPTH + ", got 4097"),
                new Bad("{\"target\":\"null\",\"queues\":0}", "queues must be 1.." + AddRequest.MAX_QUEUES + ", got 0"),
                new Bad("{\"target\":\"null\",\"id\":70000}", "device id must be 0..65535 or -1 (the lowest free), got 70000"),
                new Bad("{\"target\":\"loop\",\"files\":[\"" + missing + "\"]}", "no such file: " + missing),
                new Bad("{\"target\":\"loop\",\"files\":[\"rel.img\"]}", "backing file paths must be absolute: rel.img"),
                new Bad("{\"target\":\"nbd\",\"files\":[\"nbd+unix:///x?socket=rel.sock\"]}",
                        "the socket of nbd+unix:///x?socket=rel.sock must be an absolute path"),
                new Bad("{\"target\":\"loop\",\"files\":[\"nbd://h/x\"]}", "target loop takes no NBD URLs (nbd or stripe do)"),
                new Bad("{\"target\":\"nbd\",\"files\":[\"/etc/hostname\"]}",
                        "target nbd needs the URL of an NBD export (--url nbd://HOST[:PORT]/NAME or nbd+unix:///NAME?socket=PATH), not files"))) {
            JsonNode r = raw("device.add", b.params());
            assertEquals(RpcException.INVALID_PARAMS, r.at("/error/code").asInt(), b.params() + " -> " + r);
            assertEquals(b.message(), r.at("/error/message").asText(), b.params());
            // the command line's checks are the same calls (TargetType.of, Backend.of, deviceConfig): the same words
            IllegalArgumentException ex;
            try {
                AddRequest req = Json.mapper().readValue(b.params(), AddRequest.class);
                ex = assertThrows(IllegalArgumentException.class, req::deviceConfig, b.params());
            } catch (com.fasterxml.jackson.databind.JsonMappingException e) {
                ex = assertInstanceOf(IllegalArgumentException.class, e.getCause(), b.params());
            }
            assertEquals(b.message(), ex.getMessage(), b.params());
        }
        assertEquals(2, daemon.list().size(), "no bad request left a device or a record");
        assertEquals(List.of(0, 1), new DeviceRecords(dir).ids());
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
                c.bench(0, new BenchRequest("read", 4096, 1, 1, 100.0), Duration.ofSeconds(30), p -> progress.incrementAndGet());
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
        DeviceRecord stale = new DeviceRecord(9, DeviceRecord.LIVE, TargetType.NULL, Backend.EMULATED, 1, 16, 1 << 20, 512,
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

    /** A line without end is cut at the limit: answered once, connection closed, daemon's heap not grown. */
    @Test
    void anEndlessRequestLineIsRefusedAndTheDaemonGoesOn() throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(dir.socket()));
            var in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            byte[] chunk = new byte[64 << 10];
            java.util.Arrays.fill(chunk, (byte) 'a');
            var buf = java.nio.ByteBuffer.wrap(chunk);
            long sent = 0;
            try {
                while (sent < 4L * RpcServer.MAX_REQUEST_BYTES) {
                    buf.rewind();
                    while (buf.hasRemaining()) sent += ch.write(buf);
                }
            } catch (java.io.IOException closedByDaemon) {
                // the daemon hung up once the line passed its limit
            }
            JsonNode r = Json.mapper().readTree(in.readLine());
            assertEquals(RpcException.INVALID_REQUEST, r.at("/error/code").asInt());
            assertTrue(r.at("/error/message").asText().contains("larger than"), r.toString());
            assertNull(in.readLine(), "connection closed after the answer");
        }
        try (DaemonClient c = DaemonClient.connect(dir)) {
            assertNotNull(c.info(), "the daemon still answers");
        }
    }

    /** One bad record file does not stop a daemon from starting, nor list, nor the id from being kept. */
    @Test
    void brokenRecordsAreSkippedShownAndRemovable() throws Exception {
        daemon.close();
        Files.createDirectories(dir.devicesDir());
        Files.writeString(dir.record(0), "");                                  // empty
        Files.writeString(dir.record(1), "{\"id\":1,\"state\":\"live\",\"tar");     // truncated
        Files.writeString(dir.record(2), "{\"id\":5,\"state\":\"live\",\"target\":\"null\",\"backend\":\"emulated\"}");
        List<DeviceRecord> recs = new DeviceRecords(dir).readAll();
        assertEquals(List.of(0, 1, 2), recs.stream().map(DeviceRecord::id).toList());
        assertTrue(recs.stream().allMatch(DeviceRecord::isBroken), recs.toString());
        assertTrue(recs.get(0).problem().contains("empty"), recs.get(0).problem());
        assertTrue(recs.get(2).problem().contains("names device 5"), recs.get(2).problem());
        List<String> log = new java.util.concurrent.CopyOnWriteArrayList<>();
        daemon = new Daemon(dir, (id, req, base) -> last = new CountingDevice(base), log::add);
        assertTrue(daemon.start(), "a broken record does not stop the daemon");
        assertTrue(log.stream().anyMatch(l -> l.contains("skipping device 1")), log.toString());
        try (DaemonClient c = DaemonClient.connect(dir)) {
            assertEquals(3, c.add(nullDev(-1)).id(), "broken records keep their ids");
            RpcException e = assertThrows(RpcException.class, () -> c.add(nullDev(1)));
            assertTrue(e.getMessage().contains("broken record"), e.getMessage());
        }
        new DeviceRecords(dir).delete(1);
        assertEquals(List.of(0, 2, 3), new DeviceRecords(dir).ids());
    }

    /** Records are complete files: a record written and read back is equal (and a temp file never remains). */
    @Test
    void recordsAreWrittenWhole() throws Exception {
        DeviceRecord r = new DeviceRecord(4, DeviceRecord.LIVE, dev.ublkctl.target.TargetType.LOOP, dev.ublkctl.ublk.Backend.EMULATED, 2, 64, 1 << 30, 4096,
                List.of("/tmp/a b\nc"), 0, "loop", "/bpf/loop.o", null, 1, 2, "2026-01-01T00:00:00Z", "loop:0", false, 1, "jit",
                "backing file /tmp/a was deleted");
        new DeviceRecords(dir).write(r);
        assertEquals(r, new DeviceRecords(dir).read(4).orElseThrow().withState(DeviceRecord.LIVE));
        try (var s = Files.list(dir.devicesDir())) {
            assertEquals(List.of("4.json"), s.map(p -> p.getFileName().toString()).toList());
        }
    }

    /**
     * The last delete does not stop a daemon while another client is connected (it may be about to
     * add), and an add that reaches a daemon that decided to exit is told to ask again.
     */
    @Test
    void deletingTheLastDeviceDoesNotLoseAConnectedAdd() throws Exception {
        try (DaemonClient a = DaemonClient.connect(dir); DaemonClient b = DaemonClient.connect(dir)) {
            a.add(nullDev(-1));
            a.delete(0);
            Thread.sleep(700);   // several idle checks
            assertFalse(daemon.awaitStop(Duration.ZERO), "a client is still connected: the daemon stays");
            assertEquals(0, b.add(nullDev(-1)).id(), "the connected client's add is served");
            b.delete(0);
        }
        assertTrue(daemon.awaitStop(Duration.ofSeconds(5)), "with no client and no device it exits");
        RpcException e = assertThrows(RpcException.class, () -> daemon.add(nullDev(-1)));
        assertEquals(RpcException.SHUTTING_DOWN, e.code());
    }

    /**
     * A client that connected just before the daemon decided to exit is answered, not hung up on:
     * its add comes back SHUTTING_DOWN (which the CLI retries on a new daemon) rather than as a
     * dropped connection that leaves it unable to tell whether the add was done.
     */
    @Test
    void aClientConnectedAtTheExitDecisionIsAnswered() throws Exception {
        try (DaemonClient c = DaemonClient.connect(dir)) {
            Thread closer = Thread.ofPlatform().start(daemon::close);
            assertTrue(daemon.awaitStop(Duration.ofSeconds(5)), "the daemon decided to exit");
            RpcException e = assertThrows(RpcException.class, () -> c.add(nullDev(-1)));
            assertEquals(RpcException.SHUTTING_DOWN, e.code(), e.getMessage());
            closer.join(5_000);
            assertFalse(Files.exists(dir.socket()), "the socket goes at once: new clients start a new daemon");
        }
    }

    /**
     * A run dir removed under a live daemon (a tmp cleaner, by hand) is made again within seconds: the
     * socket answers, the records are back, and the lock is held (no second daemon can start).
     */
    @Test
    void aRemovedRunDirIsMadeAgain() throws Exception {
        try (DaemonClient c = DaemonClient.connect(dir)) {
            c.add(nullDev(-1));
        }
        try (var walk = Files.walk(dir.root())) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
        assertFalse(Files.exists(dir.root()));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!Files.exists(dir.socket()) && System.nanoTime() < deadline) Thread.sleep(50);
        assertTrue(Files.exists(dir.socket()), "the socket is back");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.root())));
        try (DaemonClient c = DaemonClient.connect(dir)) {
            assertEquals(List.of(0), c.listDevices().stream().map(DeviceRecord::id).toList());
        }
        assertEquals(List.of(0), new DeviceRecords(dir).ids(), "the records are back");
        try (var ch = java.nio.channels.FileChannel.open(dir.lockFile(), java.nio.file.StandardOpenOption.WRITE)) {
            assertThrows(java.nio.channels.OverlappingFileLockException.class, ch::tryLock, "this daemon holds the new lock");
        }
    }

    /** While a device is being deleted its id stays taken: an add of that id is refused, not run beside it. */
    @Test
    void anIdBeingDeletedIsNotReused() throws Exception {
        try (DaemonClient c = DaemonClient.connect(dir)) {
            c.add(nullDev(0));
        }
        CountDownLatch gate = new CountDownLatch(1);
        last.closeGate = gate;
        Thread deleter = Thread.ofPlatform().start(() -> daemon.delete(0));
        while (!deleter.getState().equals(Thread.State.TIMED_WAITING)) Thread.sleep(5);
        RpcException e = assertThrows(RpcException.class, () -> daemon.add(nullDev(0)));
        assertEquals(RpcException.EXISTS, e.code(), e.getMessage());
        assertEquals(1, daemon.add(nullDev(-1)).id(), "a new device takes another id meanwhile");
        gate.countDown();
        deleter.join(5_000);
        assertEquals(0, daemon.add(nullDev(0)).id(), "free again once the delete is done");
    }
}
