package dev.ublkctl.engine;

import dev.ublkctl.ublk.IoOp;

/**
 * Sees every range that reaches the Java side (no program, or REDIRECT) before the target does,
 * as the RFC's userspace server does. Return 0 to let the target serve it, or a negative errno
 * to commit the I/O with it at once — {@code -EAGAIN} on a device with a program sends the I/O
 * back to the program (once; if the program redirects again the I/O fails with -EIO).
 * Runs on the queue thread: must not block.
 */
@FunctionalInterface
public interface ServerHook {
    int onServe(int queue, int tag, IoOp op, long offset, int length, boolean redirectedByProgram);
}
