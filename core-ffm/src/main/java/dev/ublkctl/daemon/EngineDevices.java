package dev.ublkctl.daemon;

/** TEMPORARY until dev.ublkctl.engine lands: replaced by the engine-backed factory. */
final class EngineDevices {
    private EngineDevices() {}

    static HostedDevice create(int id, AddRequest req, DeviceRecord base) {
        throw RpcException.unsupported("the engine is not built yet");
    }
}
