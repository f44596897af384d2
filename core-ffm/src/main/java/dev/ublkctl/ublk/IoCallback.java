package dev.ublkctl.ublk;

/**
 * Receives the result of one block request: bytes done (>= 0) or a negative errno.
 * Called exactly once per accepted request, on a driver thread: it must not block and must
 * not submit to a device that might be full (hand the work to another thread instead).
 */
@FunctionalInterface
public interface IoCallback {
    void done(long cookie, int result);
}
