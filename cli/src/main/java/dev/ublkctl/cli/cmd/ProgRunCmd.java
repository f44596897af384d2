package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.EngineOption;

import dev.ublkctl.bpf.kernel.KernelObject;
import dev.ublkctl.bpf.kernel.KernelProgram;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.ProgramSpec;
import dev.ublkctl.bpf.object.ProgramType;
import dev.ublkctl.bpf.vm.FunctionRegistry;
import dev.ublkctl.bpf.vm.PacketRunner;
import dev.ublkctl.bpf.vm.VmFault;
import dev.ublkctl.bpf.vm.VmLoader;
import dev.ublkctl.bpf.vm.VmProgram;
import dev.ublkctl.cli.common.CliException;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.Durations;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.engine.Device;
import dev.ublkctl.engine.DeviceConfig;
import dev.ublkctl.engine.stats.DeviceStats;
import dev.ublkctl.engine.Engine;
import dev.ublkctl.engine.OpsRef;
import dev.ublkctl.engine.stats.QueueStats;
import dev.ublkctl.engine.UblkProgram;
import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.BlockIoException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

@Command(name = "run",
        description = {"Run a ublk program on one I/O, or an XDP/socket-filter program on a packet, in this process, "
                + "and time it (like bpftool prog run).",
                "Packet programs (--data-in): runs as BPF_PROG_TEST_RUN does: same return value, same output data, "
                        + "average ns per run; --kernel runs the same object in the kernel too, side by side.",
                "Makes a private emulated device (null target, or loop/stripe over -f files), attaches the "
                        + "program's struct ublk_bpf_ops and submits the I/O --repeat times; prints how the program "
                        + "disposed of it (handled in BPF, redirected to the Java target, split), the I/O's "
                        + "result and the average time per program run. No daemon is involved."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl prog run null --op read --sector 0 --sectors 8 --repeat 1000",
                "  ublkctl prog run null --ops null_split_ops --op write --sectors 256",
                "  ublkctl prog run loop -f disk.img --op write --sector 2048 --sectors 64 --json",
                "  ublkctl prog run filter.o --prog xdp_filter --data-in pkt.bin --data-out out.bin --repeat 100000 --kernel"})
public final class ProgRunCmd extends Cmd {
    @Parameters(paramLabel = "OBJECT.o", description = "Object file, or a bundled program name (null, loop, stripe).")
    String object;

    @Option(names = "--ops", paramLabel = "NAME|ID", description = "Which struct ublk_bpf_ops (default: the first).")
    String ops;

    @Option(names = "--op", paramLabel = "OP", defaultValue = "read",
            description = "read, write, flush, discard or write-zeroes (default ${DEFAULT-VALUE}).")
    String op;

    @Option(names = "--sector", paramLabel = "S", defaultValue = "0", description = "Start sector (512 bytes; default 0).")
    long sector;

    @Option(names = "--sectors", paramLabel = "N", defaultValue = "8", description = "Sectors (default ${DEFAULT-VALUE}).")
    int sectors;

    @Option(names = "--repeat", paramLabel = "K", defaultValue = "1", description = "Times to submit the I/O (default 1).")
    int repeat;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE",
            description = "Backing files: one makes a loop device, several a stripe device (default: a null device).")
    List<Path> files = new ArrayList<>();

    /** Largest --data-in packet read (far above what the kernel's test run accepts for any packet type). */
    static final long MAX_DATA_IN = 16L << 20;

    @Option(names = "--data-in", paramLabel = "FILE", description = "Packet for an XDP or socket-filter program.")
    Path dataIn;

    @Option(names = "--data-out", paramLabel = "FILE", description = "Where to write the packet after the run.")
    Path dataOut;

    @Option(names = "--prog", paramLabel = "NAME", description = "Which program of the object (default: the first XDP or socket-filter one).")
    String progName;

    @picocli.CommandLine.Mixin
    EngineOption engineOption = new EngineOption();

    @Option(names = "--kernel", description = "With --data-in: also load the object into the kernel and run it there (BPF_PROG_TEST_RUN).")
    boolean kernel;

    /** The --json answer for a packet run; {@code kernel} is null without --kernel. */
    public record PacketRun(String program, String type, int repeat, long retval, double nsPerRun, int dataOutBytes,
                            KernelSide kernel, String engine) { }

    /** The kernel's answer for the same input, and whether it matches the VM's. */
    public record KernelSide(long retval, long nsPerRun, boolean sameRetval, boolean sameData) { }

    /** The --json answer. */
    public record RunResult(String program, String op, long sector, int sectors, int repeat, int result, String error, long ios,
                            long bpfHandled, long redirected, long splitParts, Map<String, Long> errors, long progRuns,
                            long progRunNanos, long nsPerRun, long nsPerIo) { }

    @Override
    protected int run() throws Exception {
        if (repeat < 1 || repeat > 10_000_000) throw CliException.usage("--repeat must be 1..10000000");
        if (dataIn != null) return runPacket();
        if (kernel || dataOut != null || progName != null)
            throw CliException.usage("--kernel, --data-out and --prog go with --data-in (packet programs)");
        if (sectors < 1 || sectors > 2048) throw CliException.usage("--sectors must be 1..2048 (1 MiB)");
        if (sector < 0) throw CliException.usage("--sector must be >= 0");
        String o = op.toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        if (!List.of("read", "write", "flush", "discard", "write-zeroes").contains(o)) {
            throw CliException.usage("unknown --op '" + op + "' (read, write, flush, discard, write-zeroes)");
        }
        for (Path f : files) if (!Files.isRegularFile(f)) throw CliException.usage("no such file: " + f);
        UblkProgram prog;
        try {
            prog = UblkProgram.load(BpfObject.open(object), OpsRef.parse(ops), engineOption.kind().create());
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
        long end = (sector + sectors) * 512;
        TargetConfig target = files.isEmpty() ? new TargetConfig.Null(Math.max(1L << 30, (end + 4095) / 4096 * 4096))
                : files.size() == 1 ? new TargetConfig.Loop(files.getFirst()) : new TargetConfig.Stripe(files);
        try (Engine engine = Engine.emulated(); Arena arena = Arena.ofShared()) {
            Device dev;
            try {
                dev = engine.create(DeviceConfig.of(target).withQueues(1).withDepth(1));
            } catch (IllegalArgumentException e) {
                throw CliException.usage(e.getMessage());
            }
            try {
                dev.attach(prog);
                dev.start();
            } catch (IllegalStateException e) {
                throw CliException.failed("the program refused the device: " + e.getMessage());
            }
            if (end > dev.size()) throw CliException.usage("I/O ends at byte " + end + ", past the device (" + dev.size() + " bytes)");
            MemorySegment buf = arena.allocate((long) sectors * 512, 4096);
            DeviceStats before = dev.stats();
            int result = 0;
            String error = null;
            for (int i = 0; i < repeat; i++) {
                if (Thread.currentThread().isInterrupted()) throw new InterruptedException();
                CompletableFuture<Integer> f = switch (o) {
                    case "read" -> dev.block().read(sector * 512, buf);
                    case "write" -> dev.block().write(sector * 512, buf);
                    case "flush" -> dev.block().flush();
                    case "discard" -> dev.block().discard(sector * 512, (long) sectors * 512);
                    default -> dev.block().writeZeroes(sector * 512, (long) sectors * 512);
                };
                try {
                    result = f.get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    result = e.getCause() instanceof BlockIoException b ? -b.errno() : Integer.MIN_VALUE;
                    error = e.getCause().getMessage();
                } catch (TimeoutException e) {
                    throw CliException.failed("the I/O did not complete within 30 s (the program never completed it?)");
                }
            }
            QueueStats d = dev.stats().minus(before).total();
            Map<String, Long> errs = new LinkedHashMap<>();
            d.errors().forEach((errno, n) -> errs.put(Integer.toString(errno), n));
            RunResult r = new RunResult(prog.name(), o, sector, sectors, repeat, result, error, d.ios(), d.bpfHandled(),
                    d.redirected(), d.splitParts(), errs, d.progRuns(), d.progRunNanos(),
                    d.progRuns() == 0 ? 0 : d.progRunNanos() / d.progRuns(), d.latency().count() == 0 ? 0 : (long) d.latency().meanNanos());
            if (json()) printJson(r);
            else {
                out().println(style().bold(prog.name()) + ": " + o + " sector " + sector + " +" + sectors + ", " + repeat + " time(s)");
                out().println("  result:       " + (result >= 0 ? result + " bytes" : "error " + result + (error == null ? "" : " (" + error + ")")));
                out().println("  in BPF:       " + d.bpfHandled() + "   redirected: " + d.redirected() + "   split parts: " + d.splitParts()
                        + (errs.isEmpty() ? "" : "   errors (errno=count): " + errs));
                out().println("  program runs: " + d.progRuns() + ", average " + Durations.ns(r.nsPerRun()) + " per run; "
                        + "I/O service time average " + Durations.ns(r.nsPerIo()));
                out().flush();
            }
            return result >= 0 ? ExitCode.OK : ExitCode.ERROR;
        }
    }

    private int runPacket() throws Exception {
        if (!Files.isRegularFile(dataIn)) throw CliException.usage("no such file: " + dataIn);
        // the kernel's BPF_PROG_TEST_RUN takes at most a few pages of packet; read no more than a bound of it
        long len = Files.size(dataIn);
        if (len > MAX_DATA_IN)
            throw CliException.usage("--data-in " + dataIn + " is " + len + " bytes; a test packet may be at most "
                    + (MAX_DATA_IN >> 20) + " MiB");
        byte[] data = Files.readAllBytes(dataIn);
        BpfObject obj;
        try {
            obj = BpfObject.open(object);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
        ProgramSpec spec = progName != null
                ? obj.program(progName).orElseThrow(() -> CliException.usage("no program '" + progName + "' in " + object
                        + " (it has " + obj.programs().stream().map(ProgramSpec::name).toList() + ")"))
                : obj.programs().stream().filter(p -> p.type() == ProgramType.XDP || p.type() == ProgramType.SOCKET_FILTER)
                        .findFirst().orElseThrow(() -> CliException.usage(object + " has no XDP or socket-filter program; "
                                + "ublk programs run without --data-in"));
        if (spec.type() != ProgramType.XDP && spec.type() != ProgramType.SOCKET_FILTER)
            throw CliException.usage(spec.name() + " is a " + spec.type() + " program; --data-in runs XDP and socket-filter programs");
        PacketRunner runner = new PacketRunner(engineOption.kind().create());
        PacketRunner.Result vm;
        try {
            var maps = VmLoader.createMaps(obj, 1);
            FunctionRegistry reg = runner.withPacketHelpers(FunctionRegistry.standard());
            VmProgram vp = VmLoader.prepare(spec, maps, reg);
            // tail call targets the object's program arrays name (.values), prepared as they are named
            java.util.Map<String, VmProgram> targets = new java.util.HashMap<>(java.util.Map.of(spec.name(), vp));
            VmLoader.fillProgramArrays(obj, maps, n -> targets.computeIfAbsent(n, name -> {
                try {
                    return VmLoader.prepare(obj.program(name).orElseThrow(), maps, reg);
                } catch (VmFault f) {
                    throw new IllegalArgumentException("tail call target " + name + ": " + f.getMessage());
                }
            }));
            vm = runner.run(vp, spec.type(), data, repeat);
        } catch (VmFault f) {
            throw CliException.failed(spec.name() + ": " + f.getMessage());
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
        KernelSide ks = null;
        if (kernel) {
            // the whole object: its other programs may be tail call targets, its maps may need BTF (spin locks)
            try (KernelObject ko = KernelObject.load(obj)) {
                KernelProgram.TestRunResult k = ko.program(spec.name()).testRun(KernelProgram.TestRunInput.ofData(data, repeat));
                ks = new KernelSide(k.retval(), k.durationNs(), k.retval() == vm.retval(), java.util.Arrays.equals(k.dataOut(), vm.dataOut()));
            } catch (dev.ublkctl.sys.SyscallException | IllegalArgumentException e) {
                throw CliException.failed("kernel run of " + spec.name() + ": " + e.getMessage());
            }
        }
        if (dataOut != null) Files.write(dataOut, vm.dataOut());
        PacketRun r = new PacketRun(spec.name(), spec.type().name().toLowerCase(java.util.Locale.ROOT), repeat, vm.retval(),
                vm.nsPerRun(), vm.dataOut().length, ks, engineOption.kind().label());
        if (json()) printJson(r);
        else {
            // bpftool's line first, so scripts that parse it work on both
            out().printf("Return value: %d, duration (average): %dns%n", vm.retval(), Math.round(vm.nsPerRun()));
            if (ks != null) {
                out().printf(java.util.Locale.ROOT, "kernel:       %d, duration (average): %dns   %s; %s %.2fx the kernel JIT%n",
                        ks.retval(), ks.nsPerRun(),
                        ks.sameRetval() && ks.sameData() ? "same return value and output data"
                                : "DIFFERS: " + (ks.sameRetval() ? "" : "return value ") + (ks.sameData() ? "" : "output data"),
                        engineOption.kind().label(), vm.nsPerRun() / Math.max(1, ks.nsPerRun()));
            }
            out().flush();
        }
        return ks == null || ks.sameRetval() && ks.sameData() ? ExitCode.OK : ExitCode.ERROR;
    }
}
