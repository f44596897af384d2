package dev.ublkctl.engine.stats;

import java.util.List;

/** A device's counters at one moment: per queue and their sum ({@code total.queue() == -1}). */
public record DeviceStats(int devId, long takenNanos, List<QueueStats> queues, QueueStats total) {
    public DeviceStats {
        queues = List.copyOf(queues);
    }

    public static DeviceStats of(int devId, List<QueueStats> queues) {
        QueueStats t = QueueStats.empty(-1);
        for (QueueStats q : queues) t = t.plus(q, -1);
        return new DeviceStats(devId, System.nanoTime(), queues, t);
    }

    /** Counters since {@code earlier}. */
    public DeviceStats minus(DeviceStats earlier) {
        List<QueueStats> qs = new java.util.ArrayList<>();
        for (int i = 0; i < queues.size(); i++)
            qs.add(i < earlier.queues.size() ? queues.get(i).minus(earlier.queues.get(i)) : queues.get(i));
        return new DeviceStats(devId, takenNanos, qs, total.minus(earlier.total));
    }
}
