package dev.ublkctl.daemon;

/** No daemon answers on the run dir's socket (none running, it died, or it does not answer in time). */
public final class DaemonUnavailableException extends RuntimeException {
    public DaemonUnavailableException(String message) { super(message, null, false, false); }
}
