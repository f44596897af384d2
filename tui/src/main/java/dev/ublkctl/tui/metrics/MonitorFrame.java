package dev.ublkctl.tui.metrics;

import dev.ublkctl.tui.model.MonitorSnapshot;
import dev.ublkctl.tui.model.SourceState;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What one refresh shows: rows with rates, the source state and each device's chart series.
 * Immutable; built off the GUI thread and handed to it whole.
 *
 * @param snapshot  the snapshot it was computed from
 * @param rows      device rows by id (live, new, gone and lost ones)
 * @param iops      IOPS series per device id
 * @param redirect  redirect-share series (0..1) per device id
 * @param nowSec    the snapshot's time on the series' clock
 * @param windowSec how far back the series go
 */
public record MonitorFrame(MonitorSnapshot snapshot, List<DeviceRow> rows, Map<Integer, Series> iops,
                           Map<Integer, Series> redirect, double nowSec, double windowSec) {
    public MonitorFrame {
        rows = List.copyOf(rows);
        iops = Map.copyOf(iops);
        redirect = Map.copyOf(redirect);
    }

    public SourceState state() { return snapshot.state(); }

    public Optional<DeviceRow> row(int id) { return rows.stream().filter(r -> r.id() == id).findFirst(); }

    public Series iopsOf(int id) { return iops.getOrDefault(id, Series.EMPTY); }

    public Series redirectOf(int id) { return redirect.getOrDefault(id, Series.EMPTY); }
}
