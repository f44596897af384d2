package dev.ublkctl.cli.common;

/** A user-facing error: one line, an exit code, no stack trace unless --debug. */
public final class CliException extends RuntimeException {
    private final int exitCode;

    public CliException(int exitCode, String message) {
        super(message, null, false, true);
        this.exitCode = exitCode;
    }

    public CliException(int exitCode, String message, Throwable cause) {
        super(message, cause, false, true);
        this.exitCode = exitCode;
    }

    public int exitCode() { return exitCode; }

    public static CliException usage(String m) { return new CliException(ExitCode.USAGE, m); }
    public static CliException notFound(String m) { return new CliException(ExitCode.NOT_FOUND, m); }
    public static CliException unsupported(String m) { return new CliException(ExitCode.UNSUPPORTED, m); }
    public static CliException failed(String m) { return new CliException(ExitCode.ERROR, m); }
}
