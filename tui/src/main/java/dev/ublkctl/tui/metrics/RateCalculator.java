package dev.ublkctl.tui.metrics;

import dev.ublkctl.tui.model.DeviceSnapshot;
import dev.ublkctl.tui.model.MonitorSnapshot;
import dev.ublkctl.tui.model.QueueCounters;
import dev.ublkctl.tui.model.SourceState;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns successive snapshots into frames: rates between the last two snapshots of each queue,
 * device presence (new, gone, daemon lost) and the chart history. Not thread-safe: one fetcher
 * thread owns it.
 */
public final class RateCalculator {

    /** How long a deleted device stays on screen, marked gone. */
    public static final double GONE_LINGER_SEC = 10;
    /** How long a device that appeared is marked new. */
    public static final double NEW_MARK_SEC = 5;

    private final double windowSec;
    private final int historyCapacity;
    private final Map<Integer, DeviceSnapshot> prev = new HashMap<>();
    private final Map<Integer, Long> prevTaken = new HashMap<>();
    private final Map<Integer, DeviceRow> lastRows = new HashMap<>();
    private final Map<Integer, Double> firstSeen = new HashMap<>();
    private final Map<Integer, Double> goneSince = new HashMap<>();
    private final Map<Integer, History> histories = new HashMap<>();
    /** Per-queue histories of the one device whose queues are on screen. */
    private int queueFocus = -1;
    private final Map<Integer, History> queueHistories = new HashMap<>();
    /** The maps last read, of the device whose maps are read, to mark what changed. */
    private int mapsOf = -1;
    private List<dev.ublkctl.tui.model.MapSnapshot> lastMaps = List.of();
    private Long originNanos;
    private boolean everConnected;

    /**
     * @param windowSec       how much history the charts keep (seconds)
     * @param historyCapacity most samples kept per device
     */
    public RateCalculator(double windowSec, int historyCapacity) {
        this.windowSec = windowSec;
        this.historyCapacity = historyCapacity;
    }

    /** A frame with chart series for every device. */
    public MonitorFrame update(MonitorSnapshot snap) { return update(snap, null); }

    /**
     * A frame whose chart series are copied only for device {@code seriesFor} (the one on screen);
     * null means every device. History is kept for all devices either way.
     */
    public MonitorFrame update(MonitorSnapshot snap, java.util.OptionalInt seriesFor) {
        if (originNanos == null) originNanos = snap.takenNanos();
        double now = (snap.takenNanos() - originNanos) / 1e9;
        Map<Integer, DeviceRow> rows = new TreeMap<>();

        if (snap.state() == SourceState.CONNECTED) {
            boolean firstContact = !everConnected;
            everConnected = true;
            Map<Integer, DeviceSnapshot> seen = new LinkedHashMap<>();
            for (DeviceSnapshot d : snap.devices()) {
                seen.put(d.id(), d);
                if (goneSince.remove(d.id()) != null) {
                    // Deleted and re-created with the same id: a new device, not a continuation.
                    prev.remove(d.id());
                    prevTaken.remove(d.id());
                    histories.remove(d.id());
                    firstSeen.remove(d.id());
                }
                DeviceSnapshot before = prev.get(d.id());
                // A device is new if it was not there when the monitor first reached the daemon.
                if (!firstSeen.containsKey(d.id())) firstSeen.put(d.id(), firstContact ? Double.NEGATIVE_INFINITY : now);
                DeviceRow row = rowOf(before, prevTaken.get(d.id()), d, snap.takenNanos(),
                        now - firstSeen.get(d.id()) < NEW_MARK_SEC ? Presence.NEW : Presence.LIVE);
                rows.put(d.id(), row);
                History h = histories.computeIfAbsent(d.id(), k -> new History(windowSec, historyCapacity));
                if (!Double.isNaN(row.total().iops())) h.add(now, row.total());
                prev.put(d.id(), d);
                prevTaken.put(d.id(), snap.takenNanos());
                lastRows.put(d.id(), row);
            }
            for (var it = lastRows.entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                int id = e.getKey();
                if (seen.containsKey(id)) continue;
                double since = goneSince.computeIfAbsent(id, k -> now);
                if (now - since >= GONE_LINGER_SEC) {
                    it.remove();
                    prev.remove(id);
                    prevTaken.remove(id);
                    histories.remove(id);
                    firstSeen.remove(id);
                    goneSince.remove(id);
                    continue;
                }
                rows.put(id, stopped(e.getValue(), Presence.GONE));
            }
        } else {
            // The daemon is unreachable: keep the last known rows, marked lost, without rates.
            for (var e : lastRows.entrySet()) rows.put(e.getKey(), stopped(e.getValue(), Presence.DAEMON_LOST));
        }

        // few devices: every one gets charts on screen; many: only the one in focus
        boolean all = seriesFor == null || rows.size() <= CHART_ALL_MAX;
        Map<Integer, Map<Metric, Series>> series = new HashMap<>();
        for (int id : rows.keySet()) {
            if (!all && (seriesFor.isEmpty() || seriesFor.getAsInt() != id)) continue;
            History h = histories.get(id);
            if (h == null) continue;
            Map<Metric, Series> m = new java.util.EnumMap<>(Metric.class);
            for (Metric k : Metric.values()) m.put(k, h.of(k));
            series.put(id, m);
        }
        Map<Integer, List<Series>> queues = new HashMap<>();
        int qf = seriesFor == null || seriesFor.isEmpty() ? -1 : seriesFor.getAsInt();
        if (qf != queueFocus) {
            queueHistories.clear();
            queueFocus = qf;
        }
        DeviceRow focusRow = rows.get(qf);
        if (focusRow != null && snap.state() == SourceState.CONNECTED) {
            List<Series> qs = new ArrayList<>();
            for (QueueRates q : focusRow.queues()) {
                History h = queueHistories.computeIfAbsent(q.queue(), k -> new History(windowSec, Math.min(historyCapacity, QUEUE_HISTORY_CAP)));
                if (!Double.isNaN(q.iops())) h.add(now, q);
                qs.add(h.iops());
            }
            queues.put(qf, qs);
        }
        Map<String, java.util.Set<String>> changes = Map.of();
        for (DeviceSnapshot d : snap.devices()) {
            if (d.maps().isEmpty()) continue;
            if (d.id() == mapsOf) changes = MapLines.changes(lastMaps, d.maps());
            mapsOf = d.id();
            lastMaps = d.maps();
        }
        return new MonitorFrame(snap, new ArrayList<>(rows.values()), series, queues, changes, now, windowSec);
    }

    /** Up to this many devices, every device's series are copied into the frame (each gets a chart). */
    public static final int CHART_ALL_MAX = 6;
    /** Samples kept per queue of the focused device. */
    static final int QUEUE_HISTORY_CAP = 1200;

    /** A row whose device is not serving any more: counts kept, rates gone. */
    private static DeviceRow stopped(DeviceRow r, Presence p) {
        QueueRates t = r.total();
        List<QueueRates> qs = new ArrayList<>();
        for (QueueRates q : r.queues()) qs.add(QueueRates.unknown(q.queue(), q.errors(), 0, q.progRuns()));
        return new DeviceRow(r.device(), p, QueueRates.unknown(-1, t.errors(), 0, t.progRuns()), qs);
    }


    static DeviceRow rowOf(DeviceSnapshot before, Long beforeNanos, DeviceSnapshot cur, long curNanos, Presence p) {
        double secs = beforeNanos == null ? Double.NaN : (curNanos - beforeNanos) / 1e9;
        Map<Integer, QueueCounters> old = new HashMap<>();
        if (before != null) for (QueueCounters q : before.counters()) old.put(q.queue(), q);
        List<QueueRates> qr = new ArrayList<>();
        List<Delta> deltas = new ArrayList<>();
        long errs = 0, infl = 0, runs = 0;
        boolean allKnown = before != null && !cur.counters().isEmpty();
        for (QueueCounters q : cur.counters()) {
            errs += q.errors();
            infl += q.inFlight();
            runs += q.progRuns();
            QueueCounters o = old.get(q.queue());
            if (o == null || !(secs > 0)) {
                allKnown = false;
                qr.add(QueueRates.unknown(q.queue(), q.errors(), q.inFlight(), q.progRuns()));
                continue;
            }
            Delta d = Delta.between(o, q);
            deltas.add(d);
            qr.add(d.rates(q.queue(), secs, q.errors(), q.inFlight(), q.progRuns()));
        }
        QueueRates total = allKnown ? Delta.sum(deltas).rates(-1, secs, errs, infl, runs)
                : QueueRates.unknown(-1, errs, infl, runs);
        if (cur.total() != null) {
            // the daemon's own sum: the device's rates even when the queues were not sent
            QueueCounters t = cur.total();
            QueueCounters bt = before == null ? null : before.total();
            total = bt != null && secs > 0 ? Delta.between(bt, t).rates(-1, secs, t.errors(), t.inFlight(), t.progRuns())
                    : QueueRates.unknown(-1, t.errors(), t.inFlight(), t.progRuns());
        }
        return new DeviceRow(cur, p, total, qr);
    }
}
