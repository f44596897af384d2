package dev.ublkctl.sys;

/**
 * A failed system call: names the call, its key arguments and the kernel's reason.
 * Unchecked, because callers in the data path either handle a specific errno or let it
 * reach the command line, which prints {@link #getMessage()} without a stack trace.
 */
public class SyscallException extends RuntimeException {
    private final String call;
    private final int errno;

    public SyscallException(String call, String args, int errno) {
        super(call + "(" + args + ") failed: " + Errno.name(errno) + " (" + Libc.strerror(errno) + ")");
        this.call = call;
        this.errno = errno;
    }

    protected SyscallException(String call, String args, int errno, String detail) {
        super(call + "(" + args + ") failed: " + Errno.name(errno) + " (" + Libc.strerror(errno) + ")"
                + (detail == null || detail.isEmpty() ? "" : "\n" + detail));
        this.call = call;
        this.errno = errno;
    }

    /** The system call or libc function that failed, e.g. {@code "io_uring_setup"}. */
    public String call() { return call; }

    /** The positive errno value. */
    public int errno() { return errno; }
}
