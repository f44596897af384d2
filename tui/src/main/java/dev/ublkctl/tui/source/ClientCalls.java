package dev.ublkctl.tui.source;

import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.DaemonUnavailableException;
import dev.ublkctl.daemon.MapView;
import dev.ublkctl.daemon.RunDir;
import dev.ublkctl.daemon.StatsView;

import java.util.List;

/** {@link DaemonCalls} over the daemon's JSON-RPC client. */
public final class ClientCalls implements DaemonCalls {

    private final DaemonClient client;

    public ClientCalls(DaemonClient client) { this.client = client; }

    /** A {@link DaemonSource} for the daemon of a run dir; it (re)connects as needed. */
    public static DaemonSource source(RunDir dir) {
        return new DaemonSource(() -> {
            try {
                return new ClientCalls(DaemonClient.connect(dir));
            } catch (DaemonUnavailableException e) {
                throw new Unreachable(e.getMessage());
            }
        }, dir.socket().toString());
    }

    @Override public List<StatsView.OfDevice> devicesWithStats() { return guard(client::statsAll); }

    @Override public List<StatsView.OfDevice> devicesWithStats(int queuesOf) { return guard(() -> client.statsAll(queuesOf)); }

    @Override public List<MapView> maps(int id) { return guard(() -> client.maps(id)); }

    @Override public List<MapView.Entry> dumpMap(int id, String name) { return guard(() -> client.dumpMap(id, name)); }

    @Override public List<String> trace(int id, int lines) { return guard(() -> client.trace(id, -lines).lines()); }

    @Override public String describe() { return client.runDir().socket().toString(); }

    @Override public void close() { client.close(); }

    private static <T> T guard(java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (DaemonUnavailableException e) {
            throw new Unreachable(e.getMessage());
        }
    }
}
