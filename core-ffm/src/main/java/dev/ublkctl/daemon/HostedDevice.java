package dev.ublkctl.daemon;

/**
 * A device as the daemon hosts it: its record plus the operations the RPC methods need.
 * Results are plain records or jackson trees; they become the JSON of the answers.
 */
public interface HostedDevice extends AutoCloseable {

    /** Makes a running device from an add request (already validated by the daemon). */
    @FunctionalInterface
    interface Factory {
        /**
         * @param id   the device id the daemon reserved
         * @param base the record with the daemon fields filled in; the factory completes it
         */
        HostedDevice create(int id, AddRequest req, DeviceRecord base) throws Exception;

        /** Takes over device {@code id}, whose daemon died, and serves it as {@code req} describes. */
        default HostedDevice recover(int id, AddRequest req, DeviceRecord base) throws Exception {
            throw RpcException.unsupported("this daemon cannot recover devices");
        }
    }

    DeviceRecord record();

    /** {@code device.stats}. */
    Object stats();

    /** {@code prog.show}: the attached program, or null. */
    Object program();

    /** {@code prog.dump}: the attached program's instructions. */
    Object dumpProgram();

    /** {@code map.list}. */
    Object maps();

    /** {@code map.dump}. */
    Object dumpMap(String name);

    /** {@code map.update}. */
    Object updateMap(String name, String key, String value);

    /** {@code device.attach}: program is a bundled name or an absolute object path. */
    void attach(String program) throws Exception;

    /** {@code device.attach} with the engine to run the program on ("jit", "interp"; null: the default). */
    default void attach(String program, String engine) throws Exception { attach(program); }

    /** {@code device.detach}. */
    void detach() throws Exception;

    /** {@code device.bench}: runs until done or {@code call.cancelled()}. */
    Object bench(BenchRequest req, RpcServer.Call call) throws Exception;

    /** {@code device.verify}. */
    Object verify(VerifyRequest req, RpcServer.Call call) throws Exception;

    /** Stops the device and releases everything it holds. */
    @Override
    void close();
}
