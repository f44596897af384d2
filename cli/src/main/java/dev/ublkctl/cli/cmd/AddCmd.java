package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.CliException;
import dev.ublkctl.cli.Cmd;
import dev.ublkctl.cli.DaemonLauncher;
import dev.ublkctl.cli.ExitCode;
import dev.ublkctl.cli.Objects;
import dev.ublkctl.cli.Programs;
import dev.ublkctl.cli.Records;
import dev.ublkctl.cli.Sizes;
import dev.ublkctl.daemon.AddRequest;
import dev.ublkctl.daemon.Daemon;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.DeviceRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

@Command(name = "add",
        description = {"Add a device and start serving it.",
                "Starts a daemon if none runs for this run dir (or runs it here with --foreground), "
                        + "waits until the device serves I/O, then prints its record."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl add -t null --size 1G",
                "  ublkctl add -t null --bpf null -q 2 -d 64",
                "  ublkctl add -t loop -f disk.img --bpf loop",
                "  ublkctl add -t stripe -f a.img -f b.img --chunk 64k --bpf stripe",
                "  ublkctl add -t loop -f disk.img --bpf ./my_prog.o --backend emulated -n 3"})
public final class AddCmd extends Cmd {

    static final class Targets implements Iterable<String> {
        @Override public java.util.Iterator<String> iterator() { return List.of("null", "loop", "stripe").iterator(); }
    }

    static final class Backends implements Iterable<String> {
        @Override public java.util.Iterator<String> iterator() {
            return List.of("auto", "kernel-bpf", "kernel", "emulated").iterator();
        }
    }

    static final class BundledPrograms implements Iterable<String> {
        @Override public java.util.Iterator<String> iterator() { return List.of(Programs.BUNDLED).iterator(); }
    }

    @Option(names = {"-t", "--type"}, required = true, paramLabel = "TARGET", completionCandidates = Targets.class,
            description = "Target: null, loop (one backing file) or stripe (several files).")
    String target;

    @Option(names = {"-q", "--queues"}, paramLabel = "N", defaultValue = "2", description = "Number of queues (1..32, default ${DEFAULT-VALUE}).")
    int queues;

    @Option(names = {"-d", "--depth"}, paramLabel = "DEPTH", defaultValue = "128", description = "Queue depth (1..1024, default ${DEFAULT-VALUE}).")
    int depth;

    @Option(names = {"-s", "--size"}, paramLabel = "SIZE", converter = Sizes.Converter.class,
            description = "Capacity (e.g. 1G, 512M). Default: the backing files' size; 250G for null (like kublk).")
    Long size;

    @Option(names = "--bs", paramLabel = "BYTES", converter = Sizes.Converter.class, defaultValue = "512",
            description = "Logical block size: 512 or 4096 (4k). Default ${DEFAULT-VALUE}.")
    long blockSize;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Backing file (loop: one; stripe: two or more, in order), or ublk:N for device N of the same daemon (stacking).")
    List<Path> files = new ArrayList<>();

    @Option(names = "--chunk", paramLabel = "SIZE", converter = Sizes.Converter.class,
            description = "Stripe chunk size (power of two, >= block size; default 64k).")
    Long chunk;

    @Option(names = "--bpf", paramLabel = "PROGRAM", completionCandidates = BundledPrograms.class,
            description = "BPF program for the fast path: bundled name (null, loop, stripe) or an object file.")
    String bpf;

    @Option(names = "--ops", paramLabel = "NAME|ID",
            description = "Which struct ublk_bpf_ops of the object: variable name or .id (default: the first).")
    String ops;

    @Option(names = "--backend", paramLabel = "BACKEND", defaultValue = "auto", completionCandidates = Backends.class,
            description = "auto, kernel-bpf, kernel or emulated (default ${DEFAULT-VALUE}: the first that works here).")
    String backend;

    @Option(names = {"-n", "--number"}, paramLabel = "ID", description = "Device id (default: the lowest free one).")
    Integer id;

    @Option(names = "--nthreads", paramLabel = "N", defaultValue = "0",
            description = "Serving threads (1..queues); each serves several queues when fewer than the queues. "
                    + "Default: one per queue.")
    int nthreads;

    @Option(names = "--no-recovery",
            description = "Kernel backend: do not keep the device for 'ublkctl recover' if the daemon dies "
                    + "(by default the kernel holds its I/O until recover or del, where it has UBLK_F_USER_RECOVERY).")
    boolean noRecovery;

    @Option(names = "--foreground", description = "Run the daemon in this terminal until Ctrl-C (for debugging).")
    boolean foreground;

    @Override
    protected int run() throws Exception {
        AddRequest req = request();
        // refuse what cannot run here before starting a daemon for it (the daemon checks again)
        if (req.backend().equals("kernel") && !Files.exists(Path.of("/dev/ublk-control"))) {
            throw CliException.unsupported("backend kernel is not available: no ublk driver here (no /dev/ublk-control)");
        }
        if (foreground) return runForeground(req);
        try (DaemonClient c = DaemonLauncher.connectOrSpawn(session())) {
            DeviceRecord r = c.add(req);
            print(r);
        }
        return ExitCode.OK;
    }

    AddRequest request() {
        String t = target.toLowerCase(java.util.Locale.ROOT);
        if (!List.of("null", "loop", "stripe").contains(t)) {
            throw CliException.usage("unknown target '" + target + "' (targets: null, loop, stripe)");
        }
        if (queues < 1 || queues > 32) throw CliException.usage("--queues must be 1..32, not " + queues);
        if (depth < 1 || depth > 1024) throw CliException.usage("--depth must be 1..1024, not " + depth);
        if (nthreads < 0 || nthreads > queues) throw CliException.usage("--nthreads must be 1.." + queues + " (the queues), not " + nthreads);
        if (blockSize != 512 && blockSize != 4096) throw CliException.usage("--bs must be 512 or 4096, not " + blockSize);
        if (size != null && (size <= 0 || size % blockSize != 0)) {
            throw CliException.usage("--size must be a positive multiple of the block size (" + blockSize + "), not " + size);
        }
        if (id != null && (id < 0 || id > 0xFFFF)) throw CliException.usage("-n must be 0..65535, not " + id);
        String b = backend.toLowerCase(java.util.Locale.ROOT);
        if (!List.of("auto", "kernel-bpf", "kernel", "emulated").contains(b)) {
            throw CliException.usage("unknown backend '" + backend + "' (auto, kernel-bpf, kernel, emulated)");
        }
        List<String> abs = new ArrayList<>();
        for (Path f : files) {
            if (dev.ublkctl.target.TargetConfig.ublkDevice(f) >= 0) { // another device of the daemon (stacking)
                abs.add(f.toString());
                continue;
            }
            if (!Files.exists(f)) throw CliException.usage("no such file: " + f);
            if (Files.isDirectory(f)) throw CliException.usage("not a file: " + f);
            abs.add(f.toAbsolutePath().normalize().toString());
        }
        switch (t) {
            case "null" -> { if (!abs.isEmpty()) throw CliException.usage("target null takes no files"); }
            case "loop" -> { if (abs.size() != 1) throw CliException.usage("target loop needs exactly one file (-f FILE)"); }
            default -> { if (abs.size() < 2) throw CliException.usage("target stripe needs two or more files (-f A -f B ...)"); }
        }
        long ch = 0;
        if (chunk != null) {
            if (!t.equals("stripe")) throw CliException.usage("--chunk is for the stripe target");
            if (Long.bitCount(chunk) != 1 || chunk < blockSize) {
                throw CliException.usage("--chunk must be a power of two >= the block size, not " + chunk);
            }
            ch = chunk;
        }
        String prog = bpf == null ? null : Programs.resolve(bpf);
        if (prog != null) Objects.requireUblkOps(Objects.load(prog), bpf);
        if (ops != null) {
            if (prog == null) throw CliException.usage("--ops needs --bpf");
            prog = prog + ":" + ops;
        }
        return new AddRequest(id == null ? -1 : id, t, queues, depth, size == null ? 0 : size, (int) blockSize,
                abs, ch, prog, b, noRecovery, nthreads);
    }

    private void print(DeviceRecord r) {
        if (json()) printJson(r);
        else Records.print(out(), style(), r);
    }

    private int runForeground(AddRequest req) throws Exception {
        var dir = session().runDir();
        var err = err();
        Daemon d = Daemon.withEngine(dir, m -> { err.println(Instant.now() + " " + m); err.flush(); });
        if (!d.start()) {
            throw new CliException(ExitCode.ERROR, "a daemon already runs for " + dir.root()
                    + "; add without --foreground to use it");
        }
        Thread hook = new Thread(d::close, "foreground-daemon-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            DeviceRecord r = d.add(req);
            print(r);
            note("serving device " + r.id() + " in the foreground; Ctrl-C stops it");
            d.awaitStop();
        } finally {
            d.close();
            try { Runtime.getRuntime().removeShutdownHook(hook); } catch (IllegalStateException ignored) { }
        }
        return ExitCode.OK;
    }
}
