package dev.ublkctl.tui.source;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.DaemonUnavailableException;
import dev.ublkctl.daemon.RunDir;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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

    @Override
    public List<JsonNode> devices() {
        // The records as JSON, as the daemon sent them (no round trip through DeviceRecord).
        JsonNode arr = guard(() -> client.call("device.list", Map.of(), JsonNode.class));
        List<JsonNode> out = new ArrayList<>(arr == null ? 0 : arr.size());
        if (arr != null) arr.forEach(out::add);
        return out;
    }

    @Override public JsonNode stats(int id) { return guard(() -> client.stats(id)); }

    @Override
    public List<DeviceStats> devicesWithStats() {
        JsonNode arr = guard(() -> client.call("device.statsAll", Map.of(), JsonNode.class));
        List<DeviceStats> out = new ArrayList<>(arr == null ? 0 : arr.size());
        if (arr != null) {
            for (JsonNode e : arr) {
                JsonNode stats = e.get("stats");
                out.add(new DeviceStats(e.get("record"), stats == null || stats.isNull() ? null : stats,
                        e.hasNonNull("error") ? e.get("error").asText() : null));
            }
        }
        return out;
    }

    @Override public JsonNode maps(int id) { return guard(() -> client.maps(id)); }

    @Override public JsonNode dumpMap(int id, String name) { return guard(() -> client.dumpMap(id, name)); }

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
