package dev.ublkctl.ublk;

import dev.ublkctl.sys.Errno;

/** A block request that failed: which op and range, the errno, and why. */
public final class BlockIoException extends RuntimeException {
    private final int errno;

    public BlockIoException(IoOp op, long offset, long length, int errno, String why) {
        super(op + " at offset " + offset + " length " + length + " failed: " + Errno.name(errno)
                + (why == null || why.isEmpty() ? "" : " (" + why + ")"));
        this.errno = Math.abs(errno);
    }

    /** The positive errno. */
    public int errno() { return errno; }
}
