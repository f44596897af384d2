package dev.ublkctl.tui.source;

import dev.ublkctl.daemon.MapView;
import dev.ublkctl.daemon.StatsView;

import java.util.List;

/**
 * The daemon RPC methods the monitor uses, as the daemon's answer records. Implemented over the
 * daemon's client in production; tests give a fake one to see connection states. Every method
 * may throw {@link Unreachable} when the daemon cannot be reached, and any other runtime
 * exception for an error the daemon answered (a device deleted meanwhile, ...).
 */
public interface DaemonCalls extends AutoCloseable {

    /** {@code device.statsAll}: every device with its stats, one round trip per refresh. */
    List<StatsView.OfDevice> devicesWithStats();

    /** The same with per-queue entries only for device {@code queuesOf} (-1: none); totals for every device. */
    default List<StatsView.OfDevice> devicesWithStats(int queuesOf) { return devicesWithStats(); }

    /** {@code map.list}: the maps of a device's program (empty without a program). */
    List<MapView> maps(int id);

    /** {@code map.dump}: the entries of one map. */
    List<MapView.Entry> dumpMap(int id, String name);

    /** {@code prog.trace}: the newest {@code lines} bpf_printk lines of a device's program. */
    default List<String> trace(int id, int lines) { return List.of(); }

    /** Where the daemon is, for the title bar. */
    String describe();

    @Override
    void close();

    /** The daemon is not there (no socket, connection refused or broken, timeout). */
    final class Unreachable extends RuntimeException {
        public Unreachable(String message) { super(message); }
    }
}
