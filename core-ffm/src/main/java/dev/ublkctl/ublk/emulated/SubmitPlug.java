package dev.ublkctl.ublk.emulated;

import dev.ublkctl.ublk.BlockDevice;

import java.util.Arrays;

/**
 * A thread's plug ({@link BlockDevice#plug}), as the block layer's: requests submitted in the batch are
 * held here, per queue, and reach the queue together at the end of the batch (one atomic splice, and at
 * most one wake-up per queue). A serving thread that spins for work then finds the whole burst at once
 * instead of taking it request by request while the submitter is still adding to it. One per thread,
 * reused: no allocation per batch.
 */
final class SubmitPlug implements BlockDevice.Plug {
    private static final ThreadLocal<SubmitPlug> MINE = ThreadLocal.withInitial(SubmitPlug::new);

    private int depth;
    // per queue with held requests: the chain (newest first, linked through the queue's next[]) and its oldest
    private EmulatedQueue[] queues = new EmulatedQueue[4];
    private int[] heads = new int[4], tails = new int[4];
    private int n;

    /** The calling thread's plug, started (or nested once more). */
    static SubmitPlug start() {
        SubmitPlug p = MINE.get();
        p.depth++;
        return p;
    }

    /** The calling thread's plug if it is in a batch, else null. */
    static SubmitPlug active() {
        SubmitPlug p = MINE.get();
        return p.depth > 0 ? p : null;
    }

    /** Holds {@code tag} of {@code q} until the batch ends; {@code next} is the queue's link array. */
    void hold(EmulatedQueue q, int tag, int[] next) {
        int i = 0;
        while (i < n && queues[i] != q) i++;
        if (i == n) {
            if (n == queues.length) {
                queues = Arrays.copyOf(queues, n * 2);
                heads = Arrays.copyOf(heads, n * 2);
                tails = Arrays.copyOf(tails, n * 2);
            }
            queues[n] = q;
            heads[n] = -1;
            tails[n] = tag;
            n++;
        }
        next[tag] = heads[i];
        heads[i] = tag;
    }

    /** Hands every held request to its queue (before blocking, and at the end of the batch). */
    void flush() {
        // cleared first: a queue's release may run a completion that submits again on this thread
        int count = n;
        n = 0;
        for (int i = 0; i < count; i++) {
            EmulatedQueue q = queues[i];
            queues[i] = null;
            q.publish(heads[i], tails[i]);
        }
    }

    @Override
    public void close() {
        if (depth == 0) return;
        if (--depth == 0) flush();
    }
}
