package dev.ublkctl.tui.source;

import dev.ublkctl.daemon.MapView;
import dev.ublkctl.daemon.StatsView;
import dev.ublkctl.tui.model.DeviceSnapshot;
import dev.ublkctl.tui.model.MapSnapshot;
import dev.ublkctl.tui.model.MonitorSnapshot;
import dev.ublkctl.tui.model.SourceState;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.Supplier;

/**
 * The monitor's numbers over the daemon's RPC only (device list, stats, map list and dumps), so
 * it sees every device of the run dir whoever created it. Reconnects when the daemon comes back.
 */
public final class DaemonSource implements MonitorSource {

    private final Supplier<DaemonCalls> connector;
    private final String where;
    private DaemonCalls calls;
    private boolean everConnected;

    /**
     * @param connector opens a connection, or throws {@link DaemonCalls.Unreachable}
     * @param where     what to call the daemon's location before a connection exists
     */
    public DaemonSource(Supplier<DaemonCalls> connector, String where) {
        this.connector = connector;
        this.where = where;
    }

    @Override
    public MonitorSnapshot poll(OptionalInt focus) {
        try {
            if (calls == null) calls = connector.get();
            List<DeviceSnapshot> out = new ArrayList<>();
            // queues only of the device on screen in detail: the table and its charts use totals
            for (StatsView.OfDevice ds : calls.devicesWithStats(focus.orElse(-1))) {
                int id = ds.record().id();
                // a device whose stats failed is shown with the reason
                DeviceSnapshot d = Views.device(ds.record(), ds.stats(), ds.error());
                if (focus.isPresent() && focus.getAsInt() == id) d = d.withMaps(maps(id)).withTrace(trace(id));
                out.add(d);
            }
            everConnected = true;
            return new MonitorSnapshot(System.nanoTime(), SourceState.CONNECTED, null, out);
        } catch (DaemonCalls.Unreachable e) {
            dropConnection();
            return new MonitorSnapshot(System.nanoTime(), everConnected ? SourceState.LOST : SourceState.NO_DAEMON,
                    e.getMessage(), List.of());
        }
    }

    private List<MapSnapshot> maps(int id) {
        List<MapSnapshot> out = new ArrayList<>();
        List<MapView> list;
        try {
            list = calls.maps(id);
        } catch (DaemonCalls.Unreachable e) {
            throw e;
        } catch (RuntimeException e) {
            return List.of(new MapSnapshot("(maps)", "-", 0, List.of(), message(e)));
        }
        for (MapView info : list) {
            try {
                out.add(Views.map(info, calls.dumpMap(id, info.name())));
            } catch (DaemonCalls.Unreachable e) {
                throw e;
            } catch (RuntimeException e) {
                out.add(new MapSnapshot(info.name(), info.type(), info.maxEntries(), List.of(), message(e)));
            }
        }
        return out;
    }

    /** How many bpf_printk lines the detail view shows. */
    static final int TRACE_LINES = 5;

    private List<String> trace(int id) {
        try {
            return calls.trace(id, TRACE_LINES);
        } catch (DaemonCalls.Unreachable e) {
            throw e;
        } catch (RuntimeException e) {
            return List.of("(" + message(e) + ")");
        }
    }

    private static String message(RuntimeException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private void dropConnection() {
        if (calls != null) {
            try { calls.close(); } catch (RuntimeException ignored) { }
            calls = null;
        }
    }

    @Override
    public String describe() { return calls != null ? calls.describe() : where; }

    @Override
    public void close() { dropConnection(); }
}
