package dev.ublkctl.tui.testing;

import dev.ublkctl.daemon.DeviceRecord;
import dev.ublkctl.daemon.Json;
import dev.ublkctl.daemon.StatsView;
import dev.ublkctl.engine.stats.DeviceStats;
import dev.ublkctl.engine.stats.LatencySnapshot;
import dev.ublkctl.engine.stats.OpCount;
import dev.ublkctl.engine.stats.QueueStats;
import dev.ublkctl.target.TargetType;
import dev.ublkctl.ublk.Backend;
import dev.ublkctl.ublk.IoOp;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * The daemon's own answers for the monitor's tests: engine counters made into the daemon's
 * {@link StatsView} by its code and sent through its JSON mapper, read back as the client reads
 * them. No hand-written JSON: a shape the daemon does not send cannot be tested here.
 */
public final class DaemonAnswers {
    private DaemonAnswers() {}

    /** A latency histogram: {@code n[i]} I/Os of {@code nanos[i]} each. */
    public static LatencySnapshot latency(long[] nanos, long[] n) {
        long[] b = new long[LatencySnapshot.BUCKETS];
        long count = 0, sum = 0, min = Long.MAX_VALUE, max = 0;
        for (int i = 0; i < nanos.length; i++) {
            b[LatencySnapshot.bucketOf(nanos[i])] += n[i];
            count += n[i];
            sum += nanos[i] * n[i];
            min = Math.min(min, nanos[i]);
            max = Math.max(max, nanos[i]);
        }
        return new LatencySnapshot(count, sum, count == 0 ? 0 : min, max, b);
    }

    /** One queue that read {@code reads} 4 KiB blocks, {@code bpf} of them in BPF, with this latency. */
    public static QueueStats queue(int q, long reads, long bpf, Map<Integer, Long> errors, LatencySnapshot lat) {
        return new QueueStats(q, Map.of(IoOp.READ, new OpCount(reads, reads * 4096)), bpf, reads - bpf, 0, 0, 0, errors,
                1, lat, reads, reads * 250);
    }

    /** {@code device.stats} as the client gets it. */
    public static StatsView stats(int id, long takenNanos, QueueStats... queues) {
        QueueStats total = QueueStats.empty(-1);
        for (QueueStats q : queues) total = total.plus(q, -1);
        return wire(StatsView.of(new DeviceStats(id, takenNanos, List.of(queues), total)), StatsView.class);
    }

    /** A live emulated device's record. */
    public static DeviceRecord record(int id, TargetType target, int queues, String program) {
        return wire(new DeviceRecord(id, DeviceRecord.LIVE, target, Backend.EMULATED, queues, 64, 1L << 30, 512, List.of(), 0,
                program, program == null ? null : "bundled:" + program, null, 1, 1, "2026-12-01T00:00:00Z",
                program, false, 0, program == null ? null : "jit", null), DeviceRecord.class);
    }

    /** A value through the daemon's mapper and back. */
    public static <T> T wire(T value, Class<T> type) {
        try {
            return Json.mapper().readValue(Json.mapper().writeValueAsBytes(value), type);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
