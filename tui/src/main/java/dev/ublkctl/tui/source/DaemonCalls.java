package dev.ublkctl.tui.source;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * The daemon RPC methods the monitor uses, as JSON. Implemented over the daemon's client in
 * production and by canned JSON in tests, so the parsing is tested without a daemon.
 * Every method may throw {@link Unreachable} when the daemon cannot be reached, and any other
 * runtime exception for an error the daemon answered (a device deleted meanwhile, ...).
 */
public interface DaemonCalls extends AutoCloseable {

    /** {@code device.list}: one JSON object per device (the device record). */
    List<JsonNode> devices();

    /** {@code device.stats} of one device. */
    JsonNode stats(int id);

    /** One device's record with its stats, or the error that kept the stats from being read. */
    record DeviceStats(JsonNode record, JsonNode stats, String error) {}

    /**
     * Every device with its stats: {@code device.statsAll}, one round trip per refresh. This
     * default asks {@link #devices} and then {@link #stats} per device.
     */
    default List<DeviceStats> devicesWithStats() {
        List<DeviceStats> out = new java.util.ArrayList<>();
        for (JsonNode rec : devices()) {
            try {
                out.add(new DeviceStats(rec, stats(rec.path("id").asInt()), null));
            } catch (Unreachable e) {
                throw e;
            } catch (RuntimeException e) {
                // deleted between list and stats, or a stats error: the device is shown with the reason
                out.add(new DeviceStats(rec, null, e.getMessage() == null ? e.toString() : e.getMessage()));
            }
        }
        return out;
    }

    /** {@code map.list}: the maps of a device's program (an array; empty or null without a program). */
    JsonNode maps(int id);

    /** {@code map.dump}: the entries of one map. */
    JsonNode dumpMap(int id, String name);

    /** Where the daemon is, for the title bar. */
    String describe();

    @Override
    void close();

    /** The daemon is not there (no socket, connection refused or broken, timeout). */
    final class Unreachable extends RuntimeException {
        public Unreachable(String message) { super(message); }
    }
}
