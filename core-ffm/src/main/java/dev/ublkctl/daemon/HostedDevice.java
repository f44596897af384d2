package dev.ublkctl.daemon;

import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.engine.stats.DeviceCounters;
import java.util.List;

/**
 * A device as the daemon hosts it: its record plus the operations the RPC methods need.
 * Results are the answers' records; jackson makes them the JSON the client reads back.
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

    /**
     * Looks at the device's storage again (a backing file deleted or truncated meanwhile) and
     * updates {@link #record()}'s {@code problem}; true if the record changed.
     */
    default boolean recheck() { return false; }

    /** {@code device.stats}. */
    StatsView stats();

    /**
     * The counters a Prometheus scrape exports, read without building {@link #stats()}'s view
     * (no per-queue latency histograms or percentiles).
     */
    default DeviceCounters counters() {
        throw RpcException.unsupported("device " + record().id() + " has no counters to export");
    }

    /** {@link #stats()} without the per-queue entries (what a monitor polls for every device but the one it details). */
    default StatsView totals() { return stats().withoutQueues(); }

    /** {@code prog.show}: the attached program, or null. */
    ProgramView program();

    /** {@code prog.dump}: the attached program's instructions. */
    List<ProgramView.Listing> dumpProgram();

    /** {@code map.list}. */
    List<MapView> maps();

    /** {@code map.dump}. */
    List<MapView.Entry> dumpMap(String name);

    /** {@code map.update}. */
    MapView.Update updateMap(String name, String key, String value);

    /** {@code device.attach}. */
    void attach(ProgramRef program) throws Exception;

    /** {@code device.attach} with the engine to run the program on. */
    default void attach(ProgramRef program, EngineKind engine) throws Exception { attach(program); }

    /** {@code device.attach} with map entries set before the program attaches ({@code --map}). */
    default void attach(ProgramRef program, EngineKind engine, List<MapSetting> maps) throws Exception {
        if (!maps.isEmpty()) throw RpcException.unsupported("this device cannot set maps before attaching");
        attach(program, engine);
    }

    /** {@code prog.trace}: the program's bpf_printk lines numbered {@code after} on (negative: the newest -after). */
    default TraceView trace(long after, int max) { return new TraceView(record().id(), null, Math.max(after, 0), List.of(), 0); }

    /** Sends the program's bpf_printk lines to {@code sink} as they come (the daemon log). */
    default void traceTo(java.util.function.Consumer<String> sink) { }

    /** {@code device.detach}. */
    void detach() throws Exception;

    /** {@code device.bench}: runs until done or {@code call.cancelled()}. */
    BenchView bench(BenchRequest req, RpcServer.Call call) throws Exception;

    /** {@code device.verify}. */
    VerifyView verify(VerifyRequest req, RpcServer.Call call) throws Exception;

    /**
     * {@code device.export}: serves the device over NBD ({@code defaultSocket} when the request
     * names neither a socket nor an address); the record shows the export from then on.
     */
    default ExportView export(ExportRequest req, java.nio.file.Path defaultSocket, java.util.function.Consumer<String> log)
            throws Exception {
        throw RpcException.unsupported("device " + record().id() + " cannot be exported");
    }

    /** {@code device.unexport}: stops the NBD export; its clients are disconnected. */
    default ExportView unexport() {
        throw RpcException.notFound("device " + record().id() + " is not exported");
    }

    /** Stops the device and releases everything it holds. */
    @Override
    void close();
}
