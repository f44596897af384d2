package dev.ublkctl.daemon;

import dev.ublkctl.engine.stats.DeviceCounters;
import dev.ublkctl.engine.stats.DeviceStats;
import dev.ublkctl.engine.stats.QueueCounters;
import dev.ublkctl.engine.stats.QueueStats;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The monitor's totals-only view made from {@link DeviceCounters} is the one made from every queue's snapshot. */
class StatsViewTotalsTest {

    @Test
    void totalsFromCountersEqualTotalsFromSnapshots() throws Exception {
        int queues = 6;
        QueueCounters[] qs = new QueueCounters[queues];
        for (int q = 0; q < queues; q++) qs[q] = new QueueCounters(q);
        // a writer that ends (its shard is folded into the retired sum) and one that stays
        Thread ended = Thread.ofPlatform().start(() -> record(qs, new Random(1), 5_000));
        ended.join();
        record(qs, new Random(2), 3_000);
        qs[2].get().started();   // one I/O in flight

        DeviceCounters c = new DeviceCounters(3, queues);
        for (int q = 0; q < queues; q++) qs[q].addTo(c, q);
        StatsView fromCounters = StatsView.totals(c.finish());
        List<QueueStats> snaps = new ArrayList<>();
        for (QueueCounters q : qs) snaps.add(q.snapshot());
        StatsView fromSnapshots = StatsView.of(DeviceStats.of(3, snaps)).withoutQueues();

        assertEquals(fromSnapshots.total(), fromCounters.total());
        assertEquals(3, fromCounters.id());
        assertTrue(fromCounters.queues().isEmpty());
        assertTrue(fromCounters.total().errors() > 0 && fromCounters.total().latency().count() == 8_000);
        assertEquals(1, fromCounters.total().inFlight());
    }

    static void record(QueueCounters[] qs, Random rnd, int n) {
        for (int i = 0; i < n; i++) {
            var rec = qs[rnd.nextInt(qs.length)].get();
            rec.started();
            if (rnd.nextInt(4) == 0) rec.redirected(); else rec.bpfHandled();
            rec.progRun(100 + rnd.nextInt(50));
            int op = rnd.nextInt(6);
            rec.completed(op, 512 * (1 + rnd.nextInt(8)), rnd.nextInt(500) == 0 ? -(1 + rnd.nextInt(30)) : 0,
                    rnd.nextLong(200, 50_000_000));
        }
    }
}
