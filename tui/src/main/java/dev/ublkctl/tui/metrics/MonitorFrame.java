package dev.ublkctl.tui.metrics;

import dev.ublkctl.tui.model.MonitorSnapshot;
import dev.ublkctl.tui.model.SourceState;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What one refresh shows: rows with rates, the source state and the chart series.
 * Immutable; built off the GUI thread and handed to it whole.
 *
 * @param snapshot   the snapshot it was computed from
 * @param rows       device rows by id (live, new, gone and lost ones)
 * @param series     chart series per device id and metric (the devices on screen)
 * @param queueIops  per-queue IOPS series of the focused device, by queue index
 * @param mapChanges the focused device's map entries that changed since the last refresh (map → keys)
 * @param nowSec     the snapshot's time on the series' clock
 * @param windowSec  how far back the series go
 */
public record MonitorFrame(MonitorSnapshot snapshot, List<DeviceRow> rows, Map<Integer, Map<Metric, Series>> series,
                           Map<Integer, List<Series>> queueIops, Map<String, Set<String>> mapChanges,
                           double nowSec, double windowSec) {
    public MonitorFrame {
        rows = List.copyOf(rows);
        series = Map.copyOf(series);
        queueIops = Map.copyOf(queueIops);
        mapChanges = Map.copyOf(mapChanges);
    }

    public SourceState state() { return snapshot.state(); }

    public Optional<DeviceRow> row(int id) { return rows.stream().filter(r -> r.id() == id).findFirst(); }

    public Series seriesOf(int id, Metric m) { return series.getOrDefault(id, Map.of()).getOrDefault(m, Series.EMPTY); }

    public Series iopsOf(int id) { return seriesOf(id, Metric.IOPS); }

    /** Redirect share 0..1 (1 - the BPF share). */
    public Series redirectOf(int id) {
        Series b = seriesOf(id, Metric.BPF_SHARE);
        double[] v = b.values().clone();
        for (int i = 0; i < v.length; i++) v[i] = Double.isNaN(v[i]) ? Double.NaN : 1 - v[i];
        return new Series(b.times(), v);
    }

    public List<Series> queueIopsOf(int id) { return queueIops.getOrDefault(id, List.of()); }
}
