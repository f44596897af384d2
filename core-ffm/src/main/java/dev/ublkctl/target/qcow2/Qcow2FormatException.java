package dev.ublkctl.target.qcow2;

/** An image this code will not serve: unsupported, damaged or not qcow2. The message is one line for the user. */
public final class Qcow2FormatException extends IllegalArgumentException {
    public Qcow2FormatException(String message) { super(message); }
}
