package dev.ublkctl.daemon;

import dev.ublkctl.engine.Device;
import dev.ublkctl.engine.DeviceConfig;
import dev.ublkctl.engine.Engine;
import dev.ublkctl.engine.UblkProgram;
import dev.ublkctl.ublk.Backend;
import dev.ublkctl.ublk.kernel.KernelDriver;

/**
 * Devices on the engine. One {@link Engine} per backend, made on first use and closed with
 * the daemon.
 */
final class EngineDevices implements HostedDevice.Factory, AutoCloseable {

    private Engine emulated, kernel;
    /** What this machine offers: probed once, when a request first needs a backend chosen. */
    private HostSupport host;

    @Override
    public synchronized HostedDevice create(int id, AddRequest req, DeviceRecord base) {
        Engine engine = engineFor(req.backend());
        DeviceConfig cfg = req.deviceConfig().withId(id);
        EngineDevice.Attached prog = load(req);
        Device dev;
        try {
            dev = engine.create(cfg);
        } catch (IllegalArgumentException e) {
            throw RpcException.invalid(e.getMessage());
        }
        return serve(dev, sized(prog, dev, req), base, false, req);
    }

    /** How long recovery waits for the kernel to notice that the old daemon is gone. */
    static final long RECOVERY_WAIT_MS = 30_000;

    @Override
    public synchronized HostedDevice recover(int id, AddRequest req, DeviceRecord base) throws InterruptedException {
        if (req.backend() != Backend.KERNEL)
            throw RpcException.unsupported("only kernel-backend devices can be recovered; device " + id + " was "
                    + req.backend() + " (an emulated device dies with its daemon)");
        Engine engine = engineFor(Backend.KERNEL);
        DeviceConfig cfg = req.deviceConfig().withId(id);
        EngineDevice.Attached prog = load(req);
        Device dev;
        try {
            dev = engine.recover(id, cfg, RECOVERY_WAIT_MS);
        } catch (IllegalArgumentException | IllegalStateException | UnsupportedOperationException e) {
            throw RpcException.failed("cannot recover device " + id + ": " + e.getMessage());
        }
        return serve(dev, sized(prog, dev, req), base, true, req);
    }

    private static EngineDevice.Attached load(AddRequest req) {
        if (req.bpf() == null) return null;
        ProgramRef ref = ProgramRef.of(req.bpf(), req.ops());
        UblkProgram p = ref.load(req.engine());
        return new EngineDevice.Attached(p, ref.pinned(p));
    }

    /**
     * The program again with the map sizes the device's target asks for, if it has such maps (qcow2's mapping
     * cache sized to the image). The first load, before the device existed, checked the object; a failure
     * here closes the device.
     */
    private static EngineDevice.Attached sized(EngineDevice.Attached prog, Device dev, AddRequest req) {
        if (prog == null) return null;
        var sizes = dev.target().programMapSizes();
        if (sizes.keySet().stream().noneMatch(n -> prog.program().map(n).isPresent())) return prog;
        try {
            ProgramRef ref = ProgramRef.of(req.bpf(), req.ops());
            UblkProgram p = ref.load(req.engine(), sizes);
            return new EngineDevice.Attached(p, ref.pinned(p));
        } catch (RuntimeException e) {
            dev.close();
            throw e;
        }
    }

    /** Attaches the program (attach_dev runs right before the device goes live, as in the RFC) and starts it. */
    private static HostedDevice serve(Device dev, EngineDevice.Attached prog, DeviceRecord base, boolean recovering,
                                      AddRequest req) {
        try {
            if (prog != null) dev.attach(prog.program(), p -> EngineDevice.applyMaps(dev, p, req.maps()));
            if (req.bounce() > 0) dev.setServerHook(new dev.ublkctl.engine.BounceHook(dev, req.bounce()));
            if (recovering) dev.startRecovered();
            else dev.start();
            DeviceRecord rec = new DeviceRecord(dev.id(), DeviceRecord.LIVE, dev.targetType(), dev.backend(),
                    dev.nrQueues(), dev.queueDepth(), dev.size(), dev.logicalBlockSize(), base.files(), base.chunk(),
                    prog == null ? null : prog.program().name(), prog == null ? null : prog.ref().source(),
                    dev.backend() == Backend.KERNEL ? "/dev/ublkb" + dev.id() : null,
                    base.daemonPid(), base.daemonStart(), base.created(), prog == null ? null : prog.ref().toString(),
                    dev.recoverable(), dev.nrThreads() == dev.nrQueues() ? 0 : dev.nrThreads(),
                    prog == null ? null : prog.program().engineName(), null, dev.target().fds());
            return new EngineDevice(dev, rec, prog);
        } catch (RuntimeException e) {
            dev.close();
            throw e;
        }
    }

    /** The engine of the backend the machine probe picks for {@code backend}. */
    private Engine engineFor(Backend backend) {
        if (backend == Backend.EMULATED) return emulated();
        if (host == null) host = HostSupport.probe();
        Backend b;
        try {
            b = host.choose(backend);
        } catch (UnsupportedOperationException e) {
            throw RpcException.unsupported(e.getMessage());
        }
        return b == Backend.KERNEL ? kernel() : emulated();
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

    @Override
    public synchronized void close() {
        if (emulated != null) emulated.close();
        if (kernel != null) kernel.close();
        emulated = null;
        kernel = null;
    }
}
