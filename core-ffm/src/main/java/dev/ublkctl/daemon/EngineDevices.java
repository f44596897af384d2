package dev.ublkctl.daemon;

import dev.ublkctl.engine.Device;
import dev.ublkctl.engine.DeviceConfig;
import dev.ublkctl.engine.Engine;
import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.kernel.KernelDriver;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Devices on the engine. One {@link Engine} per backend, made on first use and closed with
 * the daemon.
 */
final class EngineDevices implements HostedDevice.Factory, AutoCloseable {

    private Engine emulated, kernel;

    @Override
    public synchronized HostedDevice create(int id, AddRequest req, DeviceRecord base) {
        Engine engine = engineFor(req.backend());
        DeviceConfig cfg = config(id, req);
        Programs.Loaded prog = req.bpf() == null ? null : Programs.load(req.bpf(), Programs.engine(req.engine()));
        Device dev;
        try {
            dev = engine.create(cfg);
        } catch (IllegalArgumentException e) {
            throw RpcException.invalid(e.getMessage());
        }
        return serve(dev, prog, base, false);
    }

    /** How long recovery waits for the kernel to notice that the old daemon is gone. */
    static final long RECOVERY_WAIT_MS = 30_000;

    @Override
    public synchronized HostedDevice recover(int id, AddRequest req, DeviceRecord base) throws InterruptedException {
        if (!"kernel".equals(req.backend()))
            throw RpcException.unsupported("only kernel-backend devices can be recovered; device " + id + " was "
                    + req.backend() + " (an emulated device dies with its daemon)");
        Engine engine = engineFor("kernel");
        Programs.Loaded prog = req.bpf() == null ? null : Programs.load(req.bpf(), Programs.engine(req.engine()));
        Device dev;
        try {
            dev = engine.recover(id, config(id, req), RECOVERY_WAIT_MS);
        } catch (IllegalArgumentException | IllegalStateException | UnsupportedOperationException e) {
            throw RpcException.failed("cannot recover device " + id + ": " + e.getMessage());
        }
        return serve(dev, prog, base, true);
    }

    private static DeviceConfig config(int id, AddRequest req) {
        return DeviceConfig.of(target(req)).withId(id).withQueues(req.queues()).withDepth(req.depth())
                .withLogicalBlockSize(req.blockSize()).withSize(req.size()).withRecovery(!req.noRecovery())
                .withThreads(req.threads());
    }

    /** Attaches the program (attach_dev runs right before the device goes live, as in the RFC) and starts it. */
    private static HostedDevice serve(Device dev, Programs.Loaded prog, DeviceRecord base, boolean recovering) {
        try {
            if (prog != null) dev.attach(prog.program());
            if (recovering) dev.startRecovered();
            else dev.start();
            DeviceRecord rec = new DeviceRecord(dev.id(), DeviceRecord.LIVE, dev.targetName(), dev.backend(),
                    dev.nrQueues(), dev.queueDepth(), dev.size(), dev.logicalBlockSize(), base.files(), base.chunk(),
                    prog == null ? null : prog.program().name(), prog == null ? null : prog.source(),
                    dev.backend().equals("kernel") ? "/dev/ublkb" + dev.id() : null,
                    base.daemonPid(), base.daemonStart(), base.created(), prog == null ? null : prog.spec(), dev.recoverable(),
                    dev.nrThreads() == dev.nrQueues() ? 0 : dev.nrThreads(), prog == null ? null : prog.program().engineName());
            return new EngineDevice(dev, rec, prog);
        } catch (RuntimeException e) {
            dev.close();
            throw e;
        }
    }

    /**
     * auto = the first backend that works here, as the design orders them: kernel-bpf (never: this
     * build runs BPF in its VM), kernel (ublk driver and root), emulated.
     */
    private Engine engineFor(String backend) {
        return switch (backend) {
            case "emulated" -> emulated();
            case "auto" -> kernelUnavailable() == null ? kernel() : emulated();
            case "kernel" -> {
                String why = kernelUnavailable();
                if (why != null) throw RpcException.unsupported("backend kernel is not available: " + why);
                yield kernel();
            }
            case "kernel-bpf" -> throw RpcException.unsupported("backend kernel-bpf needs a kernel with the ublk-bpf RFC "
                    + "(struct ublk_bpf_ops in its BTF) and struct_ops loading, which this build does not do; "
                    + "use --backend kernel (BPF in ublkctl's VM) or emulated");
            default -> throw RpcException.invalid("unknown backend '" + backend + "'");
        };
    }

    private Engine emulated() {
        if (emulated == null) emulated = Engine.emulated();
        return emulated;
    }

    private Engine kernel() {
        if (kernel == null) {
            try {
                kernel = Engine.on(KernelDriver.open());
            } catch (RuntimeException e) {
                throw RpcException.unsupported("cannot open the ublk driver: " + e.getMessage());
            }
        }
        return kernel;
    }

    /** Null if the kernel backend can run here, else why not. */
    static String kernelUnavailable() {
        if (!Files.exists(Path.of("/dev/ublk-control"))) return "no ublk driver here (no /dev/ublk-control)";
        if (RunDir.currentUid() != 0) return "the kernel backend needs root";
        return null;
    }

    static TargetConfig target(AddRequest req) {
        List<Path> files = new ArrayList<>();
        for (String f : req.files()) files.add(Path.of(f));
        return switch (req.target()) {
            case "null" -> req.size() > 0 ? new TargetConfig.Null(req.size()) : new TargetConfig.Null();
            case "loop" -> {
                if (files.size() != 1) throw RpcException.invalid("target loop needs exactly one file");
                yield new TargetConfig.Loop(files.getFirst());
            }
            case "stripe" -> req.chunk() > 0 ? new TargetConfig.Stripe(files, Math.toIntExact(req.chunk()))
                    : new TargetConfig.Stripe(files);
            default -> throw RpcException.invalid("unknown target '" + req.target() + "' (null, loop, stripe)");
        };
    }

    @Override
    public synchronized void close() {
        if (emulated != null) emulated.close();
        if (kernel != null) kernel.close();
        emulated = null;
        kernel = null;
    }
}
