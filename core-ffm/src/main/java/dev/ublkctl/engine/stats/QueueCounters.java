package dev.ublkctl.engine.stats;

import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The counters of one queue with many writers: the serving thread and every thread that submits to
 * the queue (programs run in the submitter's context). Each writer has its own single-writer
 * {@link StatsRecorder} (no atomic read-modify-write on the I/O path, no shared cache line); a
 * snapshot sums them. The recorders of threads that have ended are folded into one sum, so a
 * long-lived daemon serving many short-lived submitters keeps a bounded set.
 */
public final class QueueCounters {
    private record Shard(Thread owner, StatsRecorder rec) {}

    private final int queue;
    private final CopyOnWriteArrayList<Shard> shards = new CopyOnWriteArrayList<>();
    private final ThreadLocal<StatsRecorder> mine;
    /** The shards of ended threads folded into one (written and read under this object's lock only). */
    private final StatsRecorder retired;
    /** {@link #retired}'s snapshot, taken again only after it absorbed another shard (guarded by this). */
    private QueueStats retiredSnapshot;
    /** The serving thread's recorder, reached without a thread-local lookup. */
    private volatile Thread server;
    private volatile StatsRecorder serverRec;

    public QueueCounters(int queue) {
        this.queue = queue;
        this.retired = new StatsRecorder(queue);
        this.retiredSnapshot = QueueStats.empty(queue);
        this.mine = ThreadLocal.withInitial(this::newShard);
    }

    private StatsRecorder newShard() {
        StatsRecorder r = new StatsRecorder(queue);
        shards.add(new Shard(Thread.currentThread(), r));
        return r;
    }

    /** The calling thread is the queue's serving thread from now on. */
    public void serveFrom(Thread t) {
        serverRec = mine.get();
        server = t;
    }

    /** The calling thread's recorder. */
    public StatsRecorder get() {
        return Thread.currentThread() == server ? serverRec : mine.get();
    }

    public synchronized QueueStats snapshot() {
        QueueStats sum = retiredSnapshot;
        for (Shard s : shards) {
            // a thread that has ended wrote its last count before isAlive() turned false
            boolean dead = !s.owner().isAlive();
            QueueStats q = s.rec().snapshot(false);
            sum = sum.plus(q, queue);
            if (dead) retire(s);
        }
        if (sum.inFlight() < 0) // a commit seen before the start of the same I/O in another recorder
            sum = new QueueStats(queue, sum.ops(), sum.bpfHandled(), sum.redirected(), sum.splitParts(), sum.aioSubmitted(),
                    sum.aioCompleted(), sum.errors(), 0, sum.latency(), sum.progRuns(), sum.progRunNanos());
        return sum;
    }

    /**
     * Adds this queue's counters into row {@code row} of {@code d} (its latency into the device
     * histogram) without a {@link QueueStats}: what {@link #snapshot()} counts, as plain numbers.
     * In-flight is clamped at 0 as there.
     */
    public synchronized void addTo(DeviceCounters d, int row) {
        retired.addTo(d, row);
        for (Shard s : shards) {
            boolean dead = !s.owner().isAlive();
            s.rec().addTo(d, row);
            if (dead) retire(s);
        }
        d.clampInFlight(row);
    }

    /** Folds an ended thread's shard into {@link #retired} (under this object's lock). */
    private void retire(Shard s) {
        retired.absorb(s.rec());
        retiredSnapshot = retired.snapshot(false);
        shards.remove(s);
    }
}
