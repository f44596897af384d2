package dev.ublkctl.daemon;

import dev.ublkctl.engine.Device;
import dev.ublkctl.engine.DeviceConfig;
import dev.ublkctl.engine.Engine;
import dev.ublkctl.target.TargetConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Devices on the engine. One {@link Engine} per backend, made on first use and closed with
 * the daemon.
 */
final class EngineDevices implements HostedDevice.Factory, AutoCloseable {

    private Engine emulated;

    @Override
    public synchronized HostedDevice create(int id, AddRequest req, DeviceRecord base) {
        Engine engine = engineFor(req.backend());
        DeviceConfig cfg = DeviceConfig.of(target(req)).withId(id).withQueues(req.queues()).withDepth(req.depth())
                .withLogicalBlockSize(req.blockSize()).withSize(req.size());
        Programs.Loaded prog = req.bpf() == null ? null : Programs.load(req.bpf());
        Device dev;
        try {
            dev = engine.create(cfg);
        } catch (IllegalArgumentException e) {
            throw RpcException.invalid(e.getMessage());
        }
        try {
            // attach before start: attach_dev runs right before the device goes live, as in the RFC
            if (prog != null) dev.attach(prog.program());
            dev.start();
            DeviceRecord rec = new DeviceRecord(dev.id(), DeviceRecord.LIVE, dev.targetName(), dev.backend(),
                    dev.nrQueues(), dev.queueDepth(), dev.size(), dev.logicalBlockSize(), base.files(), base.chunk(),
                    prog == null ? null : prog.program().name(), prog == null ? null : prog.source(), null,
                    base.daemonPid(), base.daemonStart(), base.created());
            return new EngineDevice(dev, rec, prog);
        } catch (RuntimeException e) {
            dev.close();
            throw e;
        }
    }

    private Engine engineFor(String backend) {
        return switch (backend) {
            case "auto", "emulated" -> {
                if (emulated == null) emulated = Engine.emulated();
                yield emulated;
            }
            case "kernel", "kernel-bpf" -> throw RpcException.unsupported("backend " + backend + " is not available: "
                    + (Files.exists(Path.of("/dev/ublk-control")) ? "this build has no kernel ublk driver yet"
                    : "no ublk driver here (no /dev/ublk-control)"));
            default -> throw RpcException.invalid("unknown backend '" + backend + "'");
        };
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
        emulated = null;
    }
}
