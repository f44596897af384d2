package dev.ublkctl.daemon;

import dev.ublkctl.engine.Device;

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
        throw RpcException.unsupported("bench needs the engine's workload runner, not in this build yet");
    }

    @Override public Object verify(RpcServer.Call call) {
        throw RpcException.unsupported("verify needs the engine's verifier, not in this build yet");
    }

    @Override public void close() { dev.close(); }
}
