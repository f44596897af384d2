package dev.ublkctl.daemon;

import dev.ublkctl.bpf.jit.EngineKind;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.sys.Libc;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The process that owns devices. One per run dir (an exclusive lock on {@code daemon.lock}
 * guarantees it); serves JSON-RPC on {@code ublkctl.sock}; writes a record per device; exits
 * when its last device is deleted, or when it has had no device for {@link #IDLE_EXIT}.
 */
public final class Daemon implements AutoCloseable {

    /** A daemon without devices or clients exits after this long (a failed first add leaves none). */
    public static final Duration IDLE_EXIT = Duration.ofSeconds(10);

    private final RunDir dir;
    private final DeviceRecords records;
    private final Consumer<String> log;
    private final long pid = ProcessHandle.current().pid();
    private final long start = Daemons.selfStart();
    private final Map<Integer, HostedDevice> devices = new TreeMap<>();
    /** Ids being added: taken, but not yet served. */
    private final java.util.Set<Integer> reserved = new java.util.HashSet<>();
    private final HostedDevice.Factory factory;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private FileChannel lockChannel;
    private FileLock lock;
    private RpcServer server;
    private final MetricsEndpoint metrics;
    private volatile long emptySince = System.nanoTime();
    private volatile boolean hadDevice;

    public Daemon(RunDir dir, HostedDevice.Factory factory, Consumer<String> log) {
        this.dir = dir;
        this.factory = factory;
        this.records = new DeviceRecords(dir);
        this.log = log;
        this.metrics = new MetricsEndpoint(dir, new FleetMetrics(this::countersAll), log);
    }

    /** A daemon whose devices run on the engine (the real thing; tests may pass another factory). */
    public static Daemon withEngine(RunDir dir, Consumer<String> log) {
        return new Daemon(dir, new EngineDevices(), log);
    }

    /** The entry point the command line spawns: {@code java -cp ... dev.ublkctl.daemon.Daemon}. */
    public static void main(String[] args) throws Exception {
        // 0-2 on /dev/null where closed (and stdin always): no backing file can ever get a standard number
        Libc.holdStandardDescriptors();
        // leave the spawning terminal's session and process group, so its Ctrl-C does not reach the
        // daemon; EPERM (already a group leader, as under add --foreground) is harmless
        Libc.setsid();
        RunDir dir = RunDir.resolve();
        DaemonLog log = new DaemonLog(StdoutLogSink.create());
        log.captureJavaLogging();
        Daemon d = withEngine(dir, log);
        try {
            if (!d.start()) {
                log.accept("another daemon holds " + dir.lockFile() + "; exiting");
                System.exit(0);
            }
        } catch (IOException e) {
            log.accept("cannot start: " + e.getMessage());
            System.exit(1);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(d::close, "daemon-shutdown"));
        d.awaitStop();
        d.close();
        System.exit(0);
    }

    /**
     * Takes the run dir's lock, cleans records of dead daemons, binds the socket.
     * @return false if another daemon holds the lock
     */
    public boolean start() throws IOException {
        dir.create();
        lockChannel = FileChannel.open(dir.lockFile(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            lock = lockChannel.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            lock = null; // this JVM already runs a daemon on this dir
        }
        if (lock == null) {
            lockChannel.close();
            return false;
        }
        // Records left by a daemon that died: an emulated device died with it, so its record goes.
        // A kernel device outlives its daemon (recoverable, or at least still to be deleted): its
        // record stays for `recover` and `del` while the kernel still has the device.
        for (DeviceRecord r : records.readAll()) {
            if (DeviceRecord.LIVE.equals(r.state())) continue;
            if (r.isBroken()) {
                // never guess what a damaged record described: keep its id taken, say so, let del remove it
                log.accept("warning: skipping device " + r.id() + ": " + r.problem() + " (ublkctl del -n " + r.id() + " removes it)");
                continue;
            }
            if (DeadDevices.inKernel(r)) {
                log.accept("keeping record of device " + r.id() + " (its daemon " + r.daemonPid()
                        + " died; the kernel still has the device: recover or del it)");
                continue;
            }
            log.accept("removing record of device " + r.id() + " (its daemon " + r.daemonPid() + " died)");
            records.delete(r.id());
        }
        server = new RpcServer(dir.socket(), log);
        registerMethods();
        emptySince = System.nanoTime();   // the idle clock starts when the socket does
        server.start();
        socketKey = socketKey();
        log.accept("daemon " + pid + " listening on " + dir.socket());
        metrics.resume();
        Thread.ofPlatform().name("daemon-idle").daemon(true).start(this::idleWatch);
        return true;
    }

    public void awaitStop() throws InterruptedException { stopped.await(); }

    public boolean awaitStop(Duration d) throws InterruptedException { return stopped.await(d.toMillis(), TimeUnit.MILLISECONDS); }

    /**
     * Exits the daemon once it has no device, no add under way and no client connected: at once
     * after its last device was deleted (once that client has gone), after {@link #IDLE_EXIT} if
     * it never had one. A connected client may be about to add (its request still being read or
     * parsed: seconds on a slow machine), so nobody connected is part of the rule; a client that
     * connects after the decision gets {@link RpcException#SHUTTING_DOWN} and asks a new daemon.
     */
    private void idleWatch() {
        int ticks = 0;
        while (stopped.getCount() > 0) {
            try { Thread.sleep(100); } catch (InterruptedException e) { return; }
            if (++ticks % 10 == 0) {
                if (log instanceof DaemonLog dl) dl.tick();   // counts of suppressed lines
                recheckDevices();
                recheckRunDir();
            }
            synchronized (this) {
                RpcServer srv = server;
                if (srv != null && srv.connections() > 0) {
                    emptySince = System.nanoTime();
                    continue;
                }
                if (devices.isEmpty() && reserved.isEmpty() && (hadDevice || System.nanoTime() - emptySince > IDLE_EXIT.toNanos())) {
                    log.accept(hadDevice ? "last device deleted; exiting" : "no device added; exiting");
                    stopped.countDown();
                }
            }
        }
    }

    /** The socket file this daemon bound (its inode), to notice it was removed or replaced. */
    private volatile Object socketKey;
    private boolean orphaned;

    private Object socketKey() {
        try {
            return java.nio.file.Files.readAttributes(dir.socket(), java.nio.file.attribute.BasicFileAttributes.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * A run dir removed under a live daemon (by hand, or a tmp cleaner on {@code /tmp/ublkctl-UID}) would
     * leave devices served that no command can reach, and let the next command start a second daemon.
     * Made again within a second: directory, lock, socket and every device's record. If another daemon
     * took the new lock first, this one says so once and keeps serving what it has.
     */
    private void recheckRunDir() {
        Object key = socketKey();
        if (orphaned || server == null || (key != null && key.equals(socketKey))) return;
        log.accept("warning: " + dir.socket() + " was removed or replaced; making the run dir " + dir.root() + " again");
        try {
            dir.create();
            FileChannel ch = FileChannel.open(dir.lockFile(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException e) {
                l = null;
            }
            if (l == null) {
                ch.close();
                orphaned = true;
                log.accept("warning: another daemon holds " + dir.lockFile() + " now; this daemon (pid " + pid
                        + ") keeps serving devices " + devices.keySet() + " but commands reach the other one");
                return;
            }
            FileChannel oldCh = lockChannel;
            lockChannel = ch;
            lock = l;
            try { oldCh.close(); } catch (IOException ignored) { }
            synchronized (this) {
                for (HostedDevice d : devices.values()) records.write(d.record());
            }
            RpcServer srv = server;
            if (srv != null) srv.rebind();
            socketKey = socketKey();
            log.accept("run dir " + dir.root() + " made again; " + devices.size() + " device record(s) rewritten");
        } catch (IOException | RuntimeException e) {
            log.accept("warning: cannot make the run dir again: " + e.getMessage());
        }
    }

    /** Records follow what happened to the devices' storage, so {@code list} (which reads them) says so. */
    private void recheckDevices() {
        List<HostedDevice> ds;
        synchronized (this) { ds = new ArrayList<>(devices.values()); }
        for (HostedDevice d : ds) {
            try {
                if (d.recheck()) {
                    synchronized (this) {
                        // under the lock: a delete removes the device from the map before its record
                        if (devices.get(d.record().id()) != d) continue;
                        records.write(d.record());
                    }
                    if (d.record().problem() != null) log.accept("warning: device " + d.record().id() + ": " + d.record().problem());
                }
            } catch (RuntimeException e) {
                log.accept("checking device " + d.record().id() + ": " + e.getMessage());
            }
        }
    }

    private void registerMethods() {
        server.method("daemon.info", (p, c) -> info())
                .method("daemon.shutdown", (p, c) -> { deleteAll(); stopped.countDown(); return Map.of(); })
                .method("device.list", (p, c) -> list())
                .method("device.get", (p, c) -> get(id(p)).record())
                .method("device.add", (p, c) -> add(Json.mapper().treeToValue(p, AddRequest.class)))
                .method("device.recover", (p, c) -> recover(Json.mapper().treeToValue(p, AddRequest.class)))
                .method("device.del", (p, c) -> delete(id(p)))
                .method("device.delAll", (p, c) -> deleteAll())
                .method("device.attach", (p, c) -> attach(id(p), ProgramRef.of(text(p, "program"),
                        p.hasNonNull("ops") ? p.get("ops").asText() : null), engine(p), maps(p)))
                .method("device.detach", (p, c) -> detach(id(p)))
                .method("device.export", (p, c) -> export(exportRequest(p)))
                .method("device.unexport", (p, c) -> unexport(id(p)))
                .method("device.stats", (p, c) -> get(id(p)).stats())
                .method("device.statsAll", (p, c) -> p.has("queuesOf") ? statsAll(p.get("queuesOf").asInt(-1)) : statsAll())
                .method("metrics.scrape", (p, c) -> metrics.scrape(p.path("openMetrics").asBoolean(false)))
                .method("metrics.listen", (p, c) -> metrics.listen(listenAddress(p)))
                .method("prog.show", (p, c) -> get(id(p)).program())
                .method("prog.dump", (p, c) -> get(id(p)).dumpProgram())
                .method("prog.trace", (p, c) -> get(id(p)).trace(p.hasNonNull("after") ? p.get("after").asLong() : -TraceView.MAX_LINES,
                        p.hasNonNull("max") ? p.get("max").asInt() : TraceView.MAX_LINES))
                .method("map.list", (p, c) -> get(id(p)).maps())
                .method("map.dump", (p, c) -> get(id(p)).dumpMap(text(p, "name")))
                .method("map.update", (p, c) -> get(id(p)).updateMap(text(p, "name"), text(p, "key"), text(p, "value")))
                .method("device.bench", (p, c) -> get(id(p)).bench(Json.mapper().treeToValue(p, BenchRequest.class), c))
                .method("device.verify", (p, c) -> get(id(p)).verify(Json.mapper().treeToValue(p, VerifyRequest.class), c));
    }

    /** The optional {@code maps} param of device.attach: [{map, key, value}, ...]. */
    static java.util.List<MapSetting> maps(JsonNode p) {
        JsonNode n = p.get("maps");
        if (n == null || n.isNull()) return java.util.List.of();
        try {
            return java.util.Arrays.asList(Json.mapper().treeToValue(n, MapSetting[].class));
        } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
            throw RpcException.invalid("bad param 'maps': " + e.getMessage());
        }
    }

    static ExportRequest exportRequest(JsonNode p) {
        try {
            return new ExportRequest(id(p), optText(p, "socket"), optText(p, "listen"), optText(p, "name"),
                    p.path("readOnly").asBoolean(false));
        } catch (IllegalArgumentException e) {
            throw RpcException.invalid(e.getMessage());
        }
    }

    private static String optText(JsonNode p, String name) {
        JsonNode n = p.get(name);
        return n == null || n.isNull() ? null : n.asText();
    }

    static int id(JsonNode p) {
        JsonNode n = p.get("id");
        if (n == null || !n.canConvertToInt()) throw RpcException.invalid("missing integer param 'id'");
        return n.asInt();
    }

    /** The optional {@code engine} param: jit or interp; absent means the default. */
    static EngineKind engine(JsonNode p) {
        JsonNode n = p.get("engine");
        try {
            return EngineKind.parse(n == null || n.isNull() ? null : n.asText());
        } catch (IllegalArgumentException e) {
            throw RpcException.invalid(e.getMessage());
        }
    }

    /** The {@code address} param of {@code metrics.listen}: HOST:PORT, or null/absent to stop serving. */
    static MetricsEndpoint.Address listenAddress(JsonNode p) {
        JsonNode n = p.get("address");
        if (n == null || n.isNull()) return null;
        try {
            return MetricsEndpoint.Address.parse(n.asText());
        } catch (IllegalArgumentException e) {
            throw RpcException.invalid(e.getMessage());
        }
    }

    static String text(JsonNode p, String name) {
        JsonNode n = p.get(name);
        if (n == null || n.isNull()) throw RpcException.invalid("missing param '" + name + "'");
        return n.asText();
    }

    public synchronized DaemonInfo info() {
        return new DaemonInfo(pid, start, Daemon.class.getPackage().getImplementationVersion(),
                dir.root().toString(), dir.logFile().toString(), new ArrayList<>(devices.keySet()));
    }

    public synchronized List<DeviceRecord> list() {
        List<DeviceRecord> out = new ArrayList<>();
        for (HostedDevice d : devices.values()) out.add(d.record());
        return out;
    }

    /** {@code device.statsAll}: every device's record and stats in one answer (what a monitor polls). */
    public List<StatsView.OfDevice> statsAll() {
        List<HostedDevice> ds;
        synchronized (this) { ds = new ArrayList<>(devices.values()); }
        List<StatsView.OfDevice> out = new ArrayList<>(ds.size());
        for (HostedDevice d : ds) {
            try {
                out.add(new StatsView.OfDevice(d.record(), d.stats(), null));
            } catch (RuntimeException ex) {
                out.add(new StatsView.OfDevice(d.record(), null, ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            }
        }
        return out;
    }

    /** Every device's record and counters, for a Prometheus scrape ({@link FleetMetrics}). */
    public List<FleetMetrics.Device> countersAll() {
        List<HostedDevice> ds;
        synchronized (this) { ds = new ArrayList<>(devices.values()); }
        List<FleetMetrics.Device> out = new ArrayList<>(ds.size());
        for (HostedDevice d : ds) {
            try {
                out.add(new FleetMetrics.Device(d.record(), d.counters(), null));
            } catch (RuntimeException ex) {
                out.add(new FleetMetrics.Device(d.record(), null, ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            }
        }
        return out;
    }

    /**
     * {@code device.statsAll} with {@code queuesOf}: every device's total, but the per-queue entries
     * only of device {@code queuesOf} (-1: of none), which is what a monitor draws; 32 devices of 32
     * queues otherwise make a megabyte of JSON per refresh.
     */
    public List<StatsView.OfDevice> statsAll(int queuesOf) {
        List<HostedDevice> ds;
        synchronized (this) { ds = new ArrayList<>(devices.values()); }
        List<StatsView.OfDevice> out = new ArrayList<>(ds.size());
        for (HostedDevice d : ds) {
            try {
                // the totals straight from the counters: no per-queue entries built and dropped
                out.add(new StatsView.OfDevice(d.record(), d.record().id() == queuesOf ? d.stats() : d.totals(), null));
            } catch (RuntimeException ex) {
                out.add(new StatsView.OfDevice(d.record(), null, ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            }
        }
        return out;
    }

    synchronized HostedDevice get(int id) {
        HostedDevice d = devices.get(id);
        if (d == null) throw RpcException.notFound("no device " + id);
        return d;
    }

    /** Creates, starts and records a device; the record comes back once it serves I/O. */
    public DeviceRecord add(AddRequest req) throws Exception { return host(req, false); }

    /**
     * Serves again device {@code req.id()}, whose daemon died (the kernel kept it for recovery);
     * {@code req} describes it as its record did. The record comes back once it serves I/O.
     */
    public DeviceRecord recover(AddRequest req) throws Exception {
        if (req.id() < 0) throw RpcException.invalid("recover needs a device id");
        return host(req, true);
    }

    private DeviceRecord host(AddRequest req, boolean recover) throws Exception {
        req.deviceConfig();  // the engine's limits, before an id is taken (IllegalArgumentException: invalid params)
        int id;
        synchronized (this) {
            if (stopped.getCount() == 0) throw new RpcException(RpcException.SHUTTING_DOWN, "daemon is shutting down");
            id = req.id() >= 0 ? req.id() : lowestFreeId();
            if (devices.containsKey(id) || reserved.contains(id)) throw new RpcException(RpcException.EXISTS, "device " + id + " exists");
            var old = recover ? java.util.Optional.<DeviceRecord>empty() : records.read(id);
            if (old.isPresent() && old.get().isBroken())
                throw new RpcException(RpcException.EXISTS, "device " + id + " has a broken record (" + old.get().problem()
                        + "); ublkctl del -n " + id + " removes it");
            if (old.isPresent())
                throw new RpcException(RpcException.EXISTS, "device " + id + " exists: its daemon died and the record is kept "
                        + "(ublkctl recover -n " + id + " or ublkctl del -n " + id + ")");
            reserved.add(id);
        }
        DeviceRecord base = new DeviceRecord(id, DeviceRecord.LIVE, req.target(), req.backend(), req.queues(), req.depth(),
                req.size(), req.blockSize(), req.files(), req.chunk(), null, null, null, pid, start, Instant.now().toString(),
                null, false);
        HostedDevice d;
        try {
            d = recover ? factory.recover(id, req, base) : factory.create(id, req, base);
        } catch (Exception | Error e) {
            synchronized (this) {
                reserved.remove(id);
                if (devices.isEmpty()) emptySince = System.nanoTime();
            }
            throw e;
        }
        synchronized (this) {
            reserved.remove(id);
            devices.put(id, d);
            hadDevice = true;
        }
        // the program's bpf_printk lines: kept in the device's ring for prog trace, and in the log, where
        // the log's rate limit keeps a chatty program from filling it
        d.traceTo(line -> log.accept("device " + id + " bpf_trace_printk: " + line));
        records.write(d.record());
        log.accept((recover ? "recovered device " : "added device ") + id + ": " + d.record());
        return d.record();
    }

    private int lowestFreeId() {
        int id = 0;
        List<Integer> recorded = records.ids();  // includes devices of a dead daemon, still in the kernel
        while (devices.containsKey(id) || reserved.contains(id) || recorded.contains(id)) id++;
        return id;
    }

    /** Stops a device, releases what it holds and removes its record. */
    public DeviceRecord delete(int id) {
        HostedDevice d;
        synchronized (this) {
            d = devices.get(id);
            if (d == null) throw RpcException.notFound("no device " + id);
            devices.remove(id);
            reserved.add(id);   // the id stays taken until the device is gone: no add may reuse it meanwhile
        }
        boolean busy = false;
        try {
            d.close();
        } catch (dev.ublkctl.engine.DeviceBusyException e) {
            busy = true; // refused (devices are stacked on it): it stays served
            synchronized (this) {
                reserved.remove(id);
                devices.put(id, d);
            }
            throw RpcException.failed(e.getMessage());
        } finally {
            if (!busy) finishDelete(id);
        }
        return d.record();
    }

    private void finishDelete(int id) {
        records.delete(id);
        log.accept("deleted device " + id);
        synchronized (this) {
            reserved.remove(id);
            // the daemon exits with its last device once no client is connected (idleWatch):
            // an add that races this delete keeps it
            if (devices.isEmpty()) emptySince = System.nanoTime();
        }
    }

    public List<Integer> deleteAll() {
        List<Integer> ids;
        synchronized (this) { ids = new ArrayList<>(devices.keySet()); }
        List<Integer> done = new ArrayList<>();
        // devices stacked on others go first: a refused one is tried again after the others
        while (!ids.isEmpty()) {
            List<Integer> refused = new ArrayList<>();
            RpcException last = null;
            for (int id : ids) {
                try {
                    delete(id);
                    done.add(id);
                } catch (RpcException e) {
                    if (e.code() == RpcException.FAILED) {
                        refused.add(id);
                        last = e;
                    } else if (e.code() != RpcException.NOT_FOUND) {
                        throw e;
                    }
                }
            }
            if (refused.size() == ids.size()) throw last;
            ids = refused;
        }
        return done;
    }

    public DeviceRecord attach(int id, ProgramRef program) throws Exception {
        return attach(id, program, EngineKind.DEFAULT);
    }

    /** {@code device.attach}: the program, run by {@code engine}. */
    public DeviceRecord attach(int id, ProgramRef program, EngineKind engine) throws Exception {
        return attach(id, program, engine, java.util.List.of());
    }

    /** {@code device.attach} with map entries set before the program attaches. */
    public DeviceRecord attach(int id, ProgramRef program, EngineKind engine, java.util.List<MapSetting> maps) throws Exception {
        HostedDevice d = get(id);
        d.attach(program, engine, maps);
        records.write(d.record());
        return d.record();
    }

    /** {@code device.export}: the device served over NBD; its record shows where. */
    public ExportView export(ExportRequest req) throws Exception {
        HostedDevice d = get(req.id());
        ExportView v = d.export(req, dir.root().resolve("nbd-" + req.id() + ".sock"), log);
        records.write(d.record());
        log.accept("device " + req.id() + " exported at " + v.uri() + (v.readOnly() ? " (read-only)" : ""));
        return v;
    }

    /** {@code device.unexport}: the export stops; its clients are disconnected. */
    public ExportView unexport(int id) {
        HostedDevice d = get(id);
        ExportView v = d.unexport();
        records.write(d.record());
        log.accept("device " + id + " no longer exported");
        return v;
    }

    public DeviceRecord detach(int id) throws Exception {
        HostedDevice d = get(id);
        d.detach();
        records.write(d.record());
        return d.record();
    }

    /** Stops serving: deletes every device, closes the socket, releases the lock. */
    @Override
    public void close() {
        RpcServer srv;
        synchronized (this) {
            if (server == null || closing) return;
            closing = true;
            stopped.countDown();   // from here an add is refused with SHUTTING_DOWN
            srv = server;
        }
        srv.drain(DRAIN);   // outside the lock: the requests it lets finish take it
        closeDevices();
    }

    /** How long connections accepted before the exit decision have to get their answers. */
    static final Duration DRAIN = Duration.ofSeconds(2);
    private boolean closing;

    private synchronized void closeDevices() {
        for (HostedDevice d : new ArrayList<>(devices.values())) {
            try { d.close(); } catch (RuntimeException e) { log.accept("closing device " + d.record().id() + ": " + e); }
            records.delete(d.record().id());
        }
        devices.clear();
        metrics.close();
        if (factory instanceof AutoCloseable c) {
            try { c.close(); } catch (Exception e) { log.accept("closing the engine: " + e); }
        }
        server.close();
        server = null;
        try {
            if (lock != null) lock.release();
            lockChannel.close();
        } catch (IOException ignored) { }
        log.accept("daemon " + pid + " stopped");
    }
}
