package dev.ublkctl.ublk;

/**
 * Receives the result of one block request: bytes done (>= 0) or a negative errno.
 * Called exactly once per accepted request, on a driver thread: it must not block and must
 * not submit to a device that might be full (hand the work to another thread instead).
 */
@FunctionalInterface
public interface IoCallback {
    void done(long cookie, int result);

    /**
     * Results {@code from..to-1} of a driver's completion batch, all for this callback (as io_uring posts a
     * batch of CQEs and moves its tail once): a receiver that hands results to another thread may publish
     * them together, so that thread sees the burst whole. By default one {@link #done} each; one that
     * throws does not keep the others from being delivered.
     */
    default void doneAll(long[] cookies, int[] results, int from, int to) {
        RuntimeException failure = null;
        for (int i = from; i < to; i++) {
            try {
                done(cookies[i], results[i]);
            } catch (RuntimeException e) {
                if (failure == null) failure = e;
                else failure.addSuppressed(e);
            }
        }
        if (failure != null) throw failure;
    }
}
