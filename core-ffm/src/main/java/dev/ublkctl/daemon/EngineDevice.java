package dev.ublkctl.daemon;

import dev.ublkctl.engine.Bench;
import dev.ublkctl.engine.BenchResult;
import dev.ublkctl.engine.BenchSpec;
import dev.ublkctl.engine.Device;
import dev.ublkctl.engine.Pattern;
import dev.ublkctl.engine.Verifier;
import dev.ublkctl.engine.VerifyResult;
import dev.ublkctl.engine.VerifySpec;

import java.time.Duration;

/** A live engine device as the daemon hosts it. */
final class EngineDevice implements HostedDevice {
    private final Device dev;
    private volatile DeviceRecord rec;

    EngineDevice(Device dev, DeviceRecord rec) {
        this.dev = dev;
        this.rec = rec;
    }

    @Override public DeviceRecord record() { return rec; }

    @Override public Object stats() { return StatsView.of(dev.stats()); }

    @Override public Object program() { return null; }

    @Override public Object dumpProgram() { throw RpcException.notFound("device " + dev.id() + " has no program"); }

    @Override public Object maps() { return java.util.List.of(); }

    @Override public Object dumpMap(String name) {
        throw RpcException.notFound("device " + dev.id() + " has no map '" + name + "' (no program attached)");
    }

    @Override public Object updateMap(String name, String key, String value) { return dumpMap(name); }

    @Override public void attach(String program) {
        throw RpcException.unsupported("BPF programs need ublkctl's eBPF VM, which this build does not have yet");
    }

    @Override public void detach() {
        throw RpcException.notFound("device " + dev.id() + " has no program");
    }

    @Override public Object bench(BenchRequest req, RpcServer.Call call) {
        Pattern p = Pattern.parse(req.rw());
        if (req.bs() <= 0 || req.bs() > dev.maxIoBytes() * 16L) throw RpcException.invalid("bad block size " + req.bs());
        BenchSpec spec = BenchSpec.of(p).withBlockSize((int) req.bs()).withIoDepth(req.iodepth())
                .withNumJobs(req.numjobs()).withRuntime(Duration.ofNanos((long) (req.runtime() * 1e9)));
        BenchResult r = Bench.run(dev, spec, pr -> call.progress(new BenchView.Progress(
                pr.elapsed().toNanos() / 1e9, pr.ios(), pr.bytes(), pr.iops(), pr.mbPerSec())));
        return BenchView.of(dev.id(), r, call.cancelled());
    }

    @Override public Object verify(VerifyRequest req, RpcServer.Call call) {
        long size = dev.size();
        int bs = req.bs() > 0 ? req.bs() : 4096;
        if (bs % dev.logicalBlockSize() != 0) {
            throw RpcException.invalid("--bs " + bs + " is not a multiple of the device's block size " + dev.logicalBlockSize());
        }
        long off = req.offset();
        long len = req.length() > 0 ? req.length() : Math.min(size - off, VerifyRequest.DEFAULT_LENGTH);
        len -= len % bs;
        if (off < 0 || off % dev.logicalBlockSize() != 0 || off + len > size || len < bs) {
            throw RpcException.invalid("verify region [" + off + ", +" + len + ") does not fit the device (" + size + " bytes)");
        }
        VerifySpec spec = new VerifySpec(off, len, bs, 16, System.currentTimeMillis());
        VerifyResult r = Verifier.run(dev, spec, pr -> call.progress(new BenchView.Progress(
                pr.elapsed().toNanos() / 1e9, pr.ios(), pr.bytes(), pr.iops(), pr.mbPerSec())));
        return VerifyView.of(dev.id(), off, bs, r);
    }

    @Override public void close() { dev.close(); }
}
