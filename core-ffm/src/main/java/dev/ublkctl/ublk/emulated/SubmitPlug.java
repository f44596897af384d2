package dev.ublkctl.ublk.emulated;

import dev.ublkctl.ublk.BlockDevice;

/**
 * A thread's plug ({@link BlockDevice#plug}): the queues whose sleeping thread one of its submissions
 * should have woken, woken at the end of the batch. One per thread, reused: no allocation per batch.
 */
final class SubmitPlug implements BlockDevice.Plug {
    private static final ThreadLocal<SubmitPlug> MINE = ThreadLocal.withInitial(SubmitPlug::new);

    private int depth;
    private EmulatedQueue[] deferred = new EmulatedQueue[4];
    private int n;

    /** The calling thread's plug, started (or nested once more). */
    static SubmitPlug start() {
        SubmitPlug p = MINE.get();
        p.depth++;
        return p;
    }

    /** The calling thread's plug if it is in a batch, else null (only looked up when a wake-up is due). */
    static SubmitPlug active() {
        SubmitPlug p = MINE.get();
        return p.depth > 0 ? p : null;
    }

    /** {@code q}'s thread is asleep and this batch owes it a wake-up. */
    void defer(EmulatedQueue q) {
        for (int i = 0; i < n; i++) if (deferred[i] == q) return;
        if (n == deferred.length) deferred = java.util.Arrays.copyOf(deferred, n * 2);
        deferred[n++] = q;
    }

    /** Sends the deferred wake-ups (before blocking, and at the end of the batch). */
    void flush() {
        for (int i = 0; i < n; i++) {
            EmulatedQueue q = deferred[i];
            deferred[i] = null;
            q.wake();
        }
        n = 0;
    }

    @Override
    public void close() {
        if (depth == 0) return;
        if (--depth == 0) flush();
    }
}
