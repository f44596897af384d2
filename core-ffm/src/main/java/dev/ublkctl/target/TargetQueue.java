package dev.ublkctl.target;

import dev.ublkctl.ublk.IoOp;

/**
 * A target's per-queue state, used only by that queue's thread. A tag has at most one range
 * in the target at a time.
 */
public interface TargetQueue {
    /** user_data bits a target owns on the queue ring: {@code SERVER_UD | (part << 16) | tag}. */
    static long userData(int tag, int part) { return dev.ublkctl.ublk.UblkQueue.SERVER_UD | ((long) part << 16) | tag; }

    static int tagOf(long userData) { return (int) (userData & 0xffff); }

    static int partOf(long userData) { return (int) ((userData >>> 16) & 0xffff); }

    /**
     * Serves {@code [devOffset, devOffset + len)} of the I/O at {@code tag}; for READ/WRITE the data
     * is at native address {@code bufAddr}. Calls the completer exactly once (maybe before returning).
     */
    void submit(int tag, IoOp op, long devOffset, int len, long bufAddr);

    /** A completion of one of this target's SQEs (user_data from {@link #userData}). */
    void onCompletion(long userData, int res);

    /** SQEs in flight. */
    int inFlight();
}
