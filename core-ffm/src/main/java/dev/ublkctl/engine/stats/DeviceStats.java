package dev.ublkctl.engine.stats;

import java.util.List;

/** A device's counters at one moment: per queue and their sum ({@code total.queue() == -1}). */
public record DeviceStats(int devId, long takenNanos, List<QueueStats> queues, QueueStats total) {
    public DeviceStats {
        queues = List.copyOf(queues);
    }

    public static DeviceStats of(int devId, List<QueueStats> queues) {
        // the counters queue by queue; the latency histograms summed in one pass (one array, not one per queue)
        QueueStats t = QueueStats.empty(-1);
        List<LatencySnapshot> lats = new java.util.ArrayList<>(queues.size());
        for (QueueStats q : queues) {
            t = t.plus(q.withLatency(LatencySnapshot.empty()), -1);
            lats.add(q.latency());
        }
        return new DeviceStats(devId, System.nanoTime(), queues, t.withLatency(LatencySnapshot.sum(lats)));
    }

    /** Counters since {@code earlier}. */
    public DeviceStats minus(DeviceStats earlier) {
        List<QueueStats> qs = new java.util.ArrayList<>();
        for (int i = 0; i < queues.size(); i++)
            qs.add(i < earlier.queues.size() ? queues.get(i).minus(earlier.queues.get(i)) : queues.get(i));
        return new DeviceStats(devId, takenNanos, qs, total.minus(earlier.total));
    }
}
