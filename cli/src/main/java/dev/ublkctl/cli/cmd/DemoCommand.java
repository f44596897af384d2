package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.Names;
import dev.ublkctl.cli.common.CliException;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.DaemonLauncher;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.daemon.AddRequest;
import dev.ublkctl.daemon.BenchRequest;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.DeviceRecord;
import dev.ublkctl.daemon.RpcException;
import dev.ublkctl.target.TargetType;
import dev.ublkctl.tui.Top;
import dev.ublkctl.ublk.Backend;
import dev.ublkctl.tui.source.ClientActions;
import dev.ublkctl.tui.source.ClientCalls;
import dev.ublkctl.tui.source.MonitorSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

@Command(name = "demo",
        description = {"Show ublk-bpf working: four devices, a light load, the monitor.",
                "Creates a null, a loop, a stripe and a qcow2 device (backing files in a temporary directory), each with its "
                        + "bundled BPF program, on the best backend here; runs a light load on every queue of each, with a "
                        + "mix that moves every few seconds (pattern, block size, the null program's redirect share), and opens "
                        + "'ublkctl top' (p pauses a device's load). The qcow2 device starts with an empty mapping: its "
                        + "redirects fall as the program's map warms up. Quitting (q or Ctrl-C) removes everything the demo created."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl demo", "  ublkctl demo --backend emulated", "  ublkctl demo --once   # no terminal: load for a while, print one frame, clean up"})
public final class DemoCommand extends Cmd {

    @Option(names = "--backend", paramLabel = "BACKEND", defaultValue = "auto", converter = Names.BackendName.class,
            completionCandidates = Names.Backends.class,
            description = "auto, kernel-bpf, kernel or emulated (default ${DEFAULT-VALUE}: the first that works here).")
    Backend backend;

    @Option(names = {"-d", "--delay"}, paramLabel = "SECS", defaultValue = "1", description = "Monitor refresh interval (default ${DEFAULT-VALUE}).")
    double delay;

    @Option(names = "--no-load", description = "Create the devices but run no load.")
    boolean noLoad;

    @Option(names = "--once", description = "Without the full-screen monitor: run the load for --seconds, print one frame, clean up.")
    boolean once;

    @Option(names = "--seconds", paramLabel = "SECS", defaultValue = "3", description = "With --once: how long to run the load first (default ${DEFAULT-VALUE}).")
    double seconds;

    /** Light load: short bursts on every queue, with pauses between them. */
    static final double BURST_SEC = 0.15, PAUSE_MS = 850;
    /** How long each step of the moving mix lasts. */
    static final double STEP_SEC = 6;

    /**
     * One step of the demo's load: the pattern and block size the bench runs, and the null
     * program's {@code null_cfg}: {@code redirectWrites} sends every write to the server,
     * {@code redirectModulo} also the tags divisible by it (0 = none). Block sizes past the stripe
     * chunk (64 KiB) make the stripe program split; the pattern and the config move the null
     * device's redirect share (reads only: the modulo's share; randrw with writes redirected: about
     * half; randwrite with writes redirected: all).
     */
    record Mix(String rw, long bs, boolean redirectWrites, int redirectModulo) { }

    static final Mix[] MIXES = {
            new Mix("randread", 4096, false, 4), new Mix("randrw", 16384, true, 0), new Mix("randwrite", 131072, true, 0),
            new Mix("read", 65536, false, 0), new Mix("randrw", 262144, false, 2), new Mix("randread", 8192, false, 8)};

    /** The mix at {@code elapsedSec} into the demo for a device (devices start at different steps). */
    static Mix mix(double elapsedSec, int deviceId) {
        int step = (int) Math.floor(elapsedSec / STEP_SEC) + deviceId;
        return MIXES[Math.floorMod(step, MIXES.length)];
    }

    private final List<Integer> created = new CopyOnWriteArrayList<>();
    private final List<DaemonClient> loadClients = new CopyOnWriteArrayList<>();
    private final AtomicBoolean cleaned = new AtomicBoolean();
    /** Devices whose load the monitor's p key paused. */
    private final java.util.Set<Integer> paused = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final List<String> loadStopped = new CopyOnWriteArrayList<>();
    private Path tmp;

    @Override
    protected int run() throws Exception {
        Duration interval = TopCommand.interval(delay);
        if (!once && (System.console() == null || !System.console().isTerminal())) {
            throw CliException.usage("ublkctl demo opens the full-screen monitor and needs a terminal; use --once for scripts");
        }
        if (!(seconds > 0 && seconds <= 3600)) throw CliException.usage("--seconds must be 0..3600");
        Thread hook = new Thread(this::cleanup, "demo-cleanup");
        Runtime.getRuntime().addShutdownHook(hook); // Ctrl-C before or after the monitor
        try {
            List<DeviceRecord> devs = create();
            if (!noLoad) for (DeviceRecord d : devs) startLoad(d);
            try (MonitorSource src = ClientCalls.source(session().runDir())) {
                if (once) {
                    Thread.sleep((long) (seconds * 1000));
                    Top.once(src, interval, 132, out());
                } else {
                    Top.interactive(src, interval, new ClientActions(session().runDir()) {
                        @Override public String toggleLoad(int id) {
                            if (!created.contains(id)) throw new UnsupportedOperationException("the demo runs no load on ublkb" + id);
                            return paused.remove(id) ? "ublkb" + id + ": load resumed" : paused.add(id) ? "ublkb" + id + ": load paused" : "";
                        }
                    });
                }
            }
        } finally {
            cleanup();
            try { Runtime.getRuntime().removeShutdownHook(hook); } catch (IllegalStateException ignored) { }
        }
        return ExitCode.OK;
    }

    private List<DeviceRecord> create() throws IOException {
        tmp = Files.createTempDirectory("ublkctl-demo-");
        Path loopFile = sparse(tmp.resolve("loop.img"), 256L << 20);
        Path s0 = sparse(tmp.resolve("stripe0.img"), 128L << 20), s1 = sparse(tmp.resolve("stripe1.img"), 128L << 20);
        Path qcow2 = filledQcow2(tmp.resolve("disk.qcow2"), 64L << 20);
        Backend b = backend;
        int auto = AddRequest.AUTO_ID;
        List<AddRequest> reqs = List.of(
                // null_redirect_ops: BPF completes most I/O and sends every 4th tag to the server (set below),
                // so the monitor shows both paths.
                new AddRequest(auto, TargetType.NULL, 2, 64, 1L << 30, 512, List.of(), 0, "null", "null_redirect_ops", b, false, 0),
                new AddRequest(auto, TargetType.LOOP, 2, 64, 0, 512, List.of(loopFile.toString()), 0, "loop", null, b, false, 0),
                new AddRequest(auto, TargetType.STRIPE, 2, 64, 0, 512, List.of(s0.toString(), s1.toString()), 64 << 10,
                        "stripe", null, b, false, 0),
                new AddRequest(auto, TargetType.QCOW2, 2, 64, 0, 512, List.of(qcow2.toString()), 0, "qcow2", null, b, false, 0));
        List<DeviceRecord> out = new ArrayList<>();
        try (DaemonClient c = DaemonLauncher.connectOrSpawn(session())) {
            for (AddRequest r : reqs) {
                DeviceRecord d;
                try {
                    d = c.add(r);
                } catch (RpcException e) {
                    if (e.code() != RpcException.UNSUPPORTED) throw e;
                    // This build or backend cannot run the program: show the device without one.
                    note("demo: no BPF program for the " + r.target() + " device: " + e.getMessage());
                    d = c.add(new AddRequest(r.id(), r.target(), r.queues(), r.depth(), r.size(), r.blockSize(),
                            r.files(), r.chunk(), null, null, r.backend(), false, 0));
                }
                created.add(d.id());
                out.add(d);
                if (d.target() == TargetType.NULL && d.program() != null) redirect(c, d.id(), false, 4);
                note("demo: device " + d.id() + ": " + d.target() + (d.program() == null ? " without a BPF program" : " with BPF program " + d.program()) + " on backend " + d.backend());
            }
        }
        return out;
    }

    /**
     * null_cfg = {split_bytes 0, redirect_ops, redirect_modulo, pad 0}: writes (op bit 1) and tags
     * divisible by the modulo go to the server.
     */
    private void redirect(DaemonClient c, int id, boolean writes, int modulo) {
        try {
            c.updateMap(id, "null_cfg", "0", String.format(java.util.Locale.ROOT,
                    "hex:00 00 00 00 %02x 00 00 00 %02x 00 00 00 00 00 00 00", writes ? 1 << 1 : 0, modulo));
        } catch (RpcException e) {
            note("demo: could not configure redirects on device " + id + ": " + e.getMessage());
        }
    }

    /**
     * A qcow2 image made by the project's own code with every cluster allocated (written here,
     * before the device exists), so that the program can take over all of its I/O once mapped.
     */
    static Path filledQcow2(Path p, long size) {
        dev.ublkctl.target.qcow2.Qcow2Image.create(p, size, 16);
        try (var img = dev.ublkctl.target.qcow2.Qcow2Image.open(p, true); var a = java.lang.foreign.Arena.ofConfined()) {
            var buf = a.allocate(1 << 20, 4096);
            for (long off = 0; off < size; off += buf.byteSize()) {
                buf.fill((byte) (off >>> 20));
                img.write(off, buf.address(), (int) buf.byteSize());
            }
        }
        return p;
    }

    private static Path sparse(Path p, long size) throws IOException {
        try (var f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }

    /** One connection per device: a bench call holds its connection until it ends. */
    private void startLoad(DeviceRecord d) {
        DaemonClient c = session().connect();
        loadClients.add(c);
        long t0 = System.nanoTime();
        Thread.ofVirtual().name("demo-load-" + d.id()).start(() -> {
            Mix cfg = null;
            while (!cleaned.get()) {
                try {
                    if (paused.contains(d.id())) {
                        Thread.sleep(100);
                        continue;
                    }
                    Mix m = mix((System.nanoTime() - t0) / 1e9, d.id());
                    if (d.target() == TargetType.NULL && d.program() != null
                            && (cfg == null || cfg.redirectWrites() != m.redirectWrites() || cfg.redirectModulo() != m.redirectModulo())) {
                        cfg = m;
                        redirect(c, d.id(), m.redirectWrites(), m.redirectModulo());
                    }
                    // one job per queue, so every queue serves
                    c.bench(d.id(), new BenchRequest(m.rw(), m.bs(), 8, Math.max(1, d.queues()), BURST_SEC), Duration.ofSeconds(30), null);
                    Thread.sleep((long) PAUSE_MS);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // Unsupported here, the device went away (deleted from another shell) or the daemon
                    // died: stop loading it and say why (the monitor is drawn over this, so also log it).
                    if (!cleaned.get()) loadStopped.add("device " + d.id() + ": " + e.getMessage());
                    return;
                }
            }
        });
    }

    /** Removes what the demo made: load connections, devices, backing files. Runs once. */
    private void cleanup() {
        if (!cleaned.compareAndSet(false, true)) return;
        for (String s : loadStopped) note("demo: the load stopped on " + s);
        for (DaemonClient c : loadClients) c.close();
        if (!created.isEmpty()) {
            try (DaemonClient c = session().connect()) {
                for (int id : created) {
                    try {
                        c.delete(id);
                    } catch (RpcException e) {
                        if (e.code() != RpcException.NOT_FOUND) note("demo: removing device " + id + ": " + e.getMessage());
                    }
                }
                note("demo: removed devices " + created);
            } catch (RuntimeException e) {
                note("demo: could not remove devices " + created + ": " + e.getMessage());
            }
        }
        if (tmp != null) {
            try (Stream<Path> s = Files.walk(tmp)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            } catch (IOException e) {
                note("demo: could not remove " + tmp + ": " + e.getMessage());
            }
        }
    }
}
