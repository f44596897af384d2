package dev.ublkctl.nbd;

/** An NBD server that cannot be used: unreachable, refused the export, broke the protocol. The message says which. */
public class NbdException extends RuntimeException {
    public NbdException(String message) { super(message); }

    public NbdException(String message, Throwable cause) { super(message, cause); }
}
