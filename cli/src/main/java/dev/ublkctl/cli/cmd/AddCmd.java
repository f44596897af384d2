package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.EngineOption;

import dev.ublkctl.cli.common.Names;
import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.cli.common.CliException;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.DaemonLauncher;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.cli.common.Records;
import dev.ublkctl.cli.common.Sizes;
import dev.ublkctl.daemon.AddRequest;
import dev.ublkctl.daemon.Daemon;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.DeviceRecord;
import dev.ublkctl.daemon.HostSupport;
import dev.ublkctl.daemon.ProgramRef;
import dev.ublkctl.target.TargetType;
import dev.ublkctl.ublk.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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
                "  ublkctl add -t loop -f disk.img --bpf ./my_prog.o --backend emulated -n 3",
                "  ublkctl add -t fault_inject --fault delay=200us,every=100,errno=EIO",
                "  ublkctl add -t null --bpf ublk_null.o --ops 2 --bounce",
                "  ublkctl add -t loop -f disk.img --bpf my_loop.o --map fd_map @dev=@fd0",
                "  ublkctl add -t qcow2 -f disk.qcow2 --bpf qcow2",
                "  ublkctl add -t loop -f disk.img --bpf loop --export",
                "  ublkctl add -t nbd --url nbd://server:10809/disk",
                "  ublkctl add -t stripe --url 'nbd+unix:///a?socket=/run/a.sock' --url 'nbd+unix:///b?socket=/run/b.sock'"})
public final class AddCmd extends Cmd {

    @Option(names = {"-t", "--type"}, required = true, paramLabel = "TARGET", converter = Names.TargetName.class,
            completionCandidates = Names.Targets.class,
            description = "Target: null, loop (one backing file), stripe (several files or NBD URLs), fault_inject "
                    + "(null with delays and chosen failures, as kublk's; see --fault), qcow2 (one qcow2 image, "
                    + "version 2 or 3; its backing chain is read-only) or nbd (a remote NBD export, see --url).")
    TargetType target;

    @Option(names = "--fault", paramLabel = "SPEC",
            description = "fault_inject: delay=DURATION (ns, us, ms, s), every=N (every n-th I/O of a queue fails), "
                    + "errno=NAME|N (default EIO), comma-separated, e.g. delay=200us,every=7,errno=EIO.")
    String fault;

    @Option(names = {"-q", "--queues"}, paramLabel = "N", defaultValue = "" + AddRequest.DEFAULT_QUEUES,
            description = "Number of queues (1.." + AddRequest.MAX_QUEUES + ", default ${DEFAULT-VALUE}).")
    int queues;

    @Option(names = {"-d", "--depth"}, paramLabel = "DEPTH", defaultValue = "" + AddRequest.DEFAULT_DEPTH,
            description = "Queue depth (1.." + AddRequest.MAX_DEPTH + ", default ${DEFAULT-VALUE}).")
    int depth;

    @Option(names = {"-s", "--size"}, paramLabel = "SIZE", converter = Sizes.Converter.class,
            description = "Capacity (e.g. 1G, 512M). Default: the backing files' size; 250G for null (like kublk).")
    Long size;

    @Option(names = "--bs", paramLabel = "BYTES", converter = Sizes.Converter.class, defaultValue = "" + AddRequest.DEFAULT_BLOCK_SIZE,
            description = "Logical block size: 512, 1024, 2048 or 4096 (4k). Default ${DEFAULT-VALUE}.")
    long blockSize;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Backing file (loop, qcow2: one; stripe: two or more, in order), or ublk:N for device N of the same daemon (stacking).")
    List<Path> files = new ArrayList<>();

    @Option(names = "--url", paramLabel = "URL",
            description = "NBD export backing the device: nbd://HOST[:PORT]/NAME or nbd+unix:///NAME?socket=PATH "
                    + "(nbd: one; stripe: several, e.g. other daemons' exports).")
    List<String> urls = new ArrayList<>();

    @Option(names = "--chunk", paramLabel = "SIZE", converter = Sizes.Converter.class,
            description = "Stripe chunk size (a power of two, 4k..512k; default 64k).")
    Long chunk;

    @Option(names = "--bpf", paramLabel = "PROGRAM", completionCandidates = Names.BundledPrograms.class,
            description = "BPF program for the fast path: bundled name (null, loop, stripe) or an object file.")
    String bpf;

    @picocli.CommandLine.Mixin
    EngineOption engineOption = new EngineOption();

    @picocli.CommandLine.Mixin
    dev.ublkctl.cli.common.MapOption mapOption = new dev.ublkctl.cli.common.MapOption();

    @Option(names = "--bounce", paramLabel = "N", arity = "0..1", fallbackValue = "" + dev.ublkctl.engine.BounceHook.KUBLK_EVERY,
            description = "With a program: of every N I/Os it redirects (per queue), N-1 go back to it with -EAGAIN "
                    + "after io_map[key] = 1, as kublk's null server does (N defaults to 4, kublk's proportion); "
                    + "the program then completes them.")
    Integer bounce;

    @Option(names = "--ops", paramLabel = "NAME|ID",
            description = "Which struct ublk_bpf_ops of the object: variable name or .id (default: the first).")
    String ops;

    @Option(names = "--backend", paramLabel = "BACKEND", defaultValue = "auto", converter = Names.BackendName.class,
            completionCandidates = Names.Backends.class,
            description = "auto, kernel-bpf, kernel or emulated (default ${DEFAULT-VALUE}: the first that works here).")
    Backend backend;

    @Option(names = {"-n", "--number"}, paramLabel = "ID",
            description = "Device id (0.." + AddRequest.MAX_ID + "; default: the lowest free one).")
    Integer id;

    @Option(names = "--nthreads", paramLabel = "N", defaultValue = "0",
            description = "Serving threads (1..queues); each serves several queues when fewer than the queues. "
                    + "Default: one per queue.")
    int nthreads;

    @Option(names = "--no-recovery",
            description = "Kernel backend: do not keep the device for 'ublkctl recover' if the daemon dies "
                    + "(by default the kernel holds its I/O until recover or del, where it has UBLK_F_USER_RECOVERY).")
    boolean noRecovery;

    @Option(names = "--export", description = "Also serve the device over NBD, as 'ublkctl export' does, and print its URI "
            + "(default: a Unix socket in the run dir; see --export-listen, --export-socket, --export-name).")
    boolean export;

    @Option(names = "--export-listen", paramLabel = "[ADDR:]PORT", description = "With --export: listen on TCP (ADDR defaults to 127.0.0.1).")
    String exportListen;

    @Option(names = "--export-socket", paramLabel = "PATH", description = "With --export: the Unix socket to listen on.")
    Path exportSocket;

    @Option(names = "--export-name", paramLabel = "NAME", description = "With --export: the export name (default ublkbID).")
    String exportName;

    @Option(names = "--foreground", description = "Run the daemon in this terminal until Ctrl-C (for debugging).")
    boolean foreground;

    @Override
    protected int run() throws Exception {
        AddRequest req = request();
        // refuse what cannot run here before starting a daemon for it (the daemon asks the same probe)
        if (req.backend() != Backend.AUTO && req.backend() != Backend.EMULATED) {
            try {
                HostSupport.probe().choose(req.backend());
            } catch (UnsupportedOperationException e) {
                throw CliException.unsupported(e.getMessage());
            }
        }
        boolean exporting = export || exportListen != null || exportSocket != null || exportName != null;
        if (exporting) ExportCmd.request(0, exportSocket, exportListen, exportName, false);   // refuse a bad option before adding
        if (foreground) return runForeground(req);
        // a daemon that is exiting (its last device was just deleted) takes no new device: ask the next one
        long deadline = System.nanoTime() + DaemonLauncher.SPAWN_TIMEOUT.toNanos();
        for (;;) {
            try (DaemonClient c = DaemonLauncher.connectOrSpawn(session())) {
                DeviceRecord r = c.add(req);
                if (exporting) r = exportNew(c, r);
                print(r);
                if (exporting && !json()) {
                    out().println(r.export().uri());
                    out().flush();
                }
                return ExitCode.OK;
            } catch (dev.ublkctl.daemon.RpcException e) {
                if (e.code() != dev.ublkctl.daemon.RpcException.SHUTTING_DOWN || System.nanoTime() > deadline) throw e;
                Thread.sleep(50);
            }
        }
    }

    /** The request, checked as the daemon checks it (the same calls: the same limits and words). */
    AddRequest request() {
        List<String> abs = new ArrayList<>();
        for (Path f : files) {
            // ublk:N is another device of the daemon (stacking), not a file
            abs.add(dev.ublkctl.target.TargetConfig.ublkDevice(f) >= 0 ? f.toString() : f.toAbsolutePath().normalize().toString());
        }
        if (!urls.isEmpty() && !files.isEmpty()) throw CliException.usage("--url and --file cannot be mixed");
        for (String u : urls) {
            if (!u.startsWith("nbd://") && !u.startsWith("nbd+unix://"))
                throw CliException.usage("--url wants nbd://HOST[:PORT]/NAME or nbd+unix:///NAME?socket=PATH, got '" + u + "'");
            abs.add(u);
        }
        String prog = null;
        try {
            if (bpf != null) {
                prog = BpfObject.resolve(bpf);
                ProgramRef.of(prog, ops).load(EngineKind.INTERP);   // loads: the daemon compiles it
            }
            AddRequest req = new AddRequest(id == null ? AddRequest.AUTO_ID : id, target, queues, depth,
                    size == null ? 0 : size, Math.toIntExact(blockSize), abs, chunk == null ? 0 : chunk, prog, ops,
                    backend, noRecovery, nthreads, fault, engineOption.kind(), mapOption.settings(),
                    bounce == null ? 0 : bounce);
            req.deviceConfig();
            return req;
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw CliException.usage(e.getMessage());
        }
    }

    /** Exports the device just added; if that fails, the device goes too (add --export is one step). */
    private DeviceRecord exportNew(DaemonClient c, DeviceRecord r) {
        try {
            var v = c.export(ExportCmd.request(r.id(), exportSocket, exportListen, exportName, false));
            if (exportListen != null && dev.ublkctl.daemon.ExportRequest.portOnly(exportListen))
                note("listening on " + v.address() + " (loopback only; --export-listen ADDR:PORT for another address)");
            return r.withExport(v);
        } catch (RuntimeException e) {
            try {
                c.delete(r.id());
            } catch (RuntimeException ignored) {
                // the export error is the one to report
            }
            throw e;
        }
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
            if (export || exportListen != null || exportSocket != null || exportName != null)
                r = r.withExport(d.export(ExportCmd.request(r.id(), exportSocket, exportListen, exportName, false)));
            print(r);
            if (r.export() != null && !json()) out().println(r.export().uri());
            note("serving device " + r.id() + " in the foreground; Ctrl-C stops it");
            d.awaitStop();
        } finally {
            d.close();
            try { Runtime.getRuntime().removeShutdownHook(hook); } catch (IllegalStateException ignored) { }
        }
        return ExitCode.OK;
    }
}
