package dev.ublkctl.cli.common;

/** The exit codes of every ublkctl command (also in docs/cli.md and ublkctl(1)). */
public final class ExitCode {
    private ExitCode() {}

    /** Success. */
    public static final int OK = 0;
    /** The operation failed (I/O error, program fault, daemon error). */
    public static final int ERROR = 1;
    /** Bad command line: unknown verb or option, bad value (size, target, ...), missing file. */
    public static final int USAGE = 2;
    /** No such device, map or program. */
    public static final int NOT_FOUND = 3;
    /** No daemon answers, or the device's daemon died. */
    public static final int DAEMON = 4;
    /** Not possible here: backend, kernel or build lacks it. */
    public static final int UNSUPPORTED = 5;
    /** Interrupted by the user (Ctrl-C). */
    public static final int INTERRUPTED = 130;

    /** Table rows for help texts: code, meaning. */
    public static final String[][] TABLE = {
            {"0", "success"},
            {"1", "the operation failed (I/O error, program fault, daemon error)"},
            {"2", "bad command line: unknown verb or option, bad value, missing file"},
            {"3", "no such device, map or program"},
            {"4", "no daemon answers, or the device's daemon died"},
            {"5", "not supported here (backend, kernel or build lacks it)"},
            {"130", "interrupted (Ctrl-C)"},
    };
}
