package dev.ublkctl.tui.testing;

import dev.ublkctl.tui.model.DeviceSnapshot;
import dev.ublkctl.tui.model.LatencyHistogram;
import dev.ublkctl.tui.model.MapSnapshot;
import dev.ublkctl.tui.model.MonitorSnapshot;
import dev.ublkctl.tui.model.QueueCounters;
import dev.ublkctl.tui.model.SourceState;

import java.util.ArrayList;
import java.util.List;

/** Builders of monitor snapshots for tests. */
public final class Fixtures {
    private Fixtures() {}

    public static final long SEC = 1_000_000_000L;

    /** Latency with all I/Os in one bucket (upper bound {@code ns}). */
    public static LatencyHistogram lat(long ns, long count) {
        return new LatencyHistogram(new long[]{ns / 2, ns}, new long[]{0, count});
    }

    /** A queue whose counters are {@code ios} I/Os of 4 KiB, {@code bpfPct}% handled in BPF. */
    public static QueueCounters queue(int q, long ios, int bpfPct) {
        long bpf = ios * bpfPct / 100;
        return new QueueCounters(q, ios, ios * 4096, bpf, ios - bpf, ios / 10, 0, 3, lat(20_000, ios), ios, ios * 500);
    }

    public static DeviceSnapshot device(int id, String target, String program, List<QueueCounters> qs) {
        return new DeviceSnapshot(id, target, "emulated", "live", qs.size(), 128, 1L << 30, program, qs, List.of(), null);
    }

    /** A device with {@code queues} queues, each at {@code iosPerQueue} cumulative I/Os. */
    public static DeviceSnapshot device(int id, String target, String program, int queues, long iosPerQueue, int bpfPct) {
        List<QueueCounters> qs = new ArrayList<>();
        for (int q = 0; q < queues; q++) qs.add(queue(q, iosPerQueue, bpfPct));
        return device(id, target, program, qs);
    }

    public static MonitorSnapshot snap(long nanos, DeviceSnapshot... ds) {
        return new MonitorSnapshot(nanos, SourceState.CONNECTED, null, List.of(ds));
    }

    public static MonitorSnapshot down(long nanos, SourceState st, String msg) {
        return new MonitorSnapshot(nanos, st, msg, List.of());
    }

    public static DeviceSnapshot withMaps(DeviceSnapshot d, MapSnapshot... maps) {
        return d.withMaps(List.of(maps));
    }
}
