package dev.ublkctl.engine;

/** The device cannot be deleted: other devices are stacked on it ({@code ublk:N}); delete those first. */
public final class DeviceBusyException extends IllegalStateException {
    public DeviceBusyException(String message) { super(message); }
}
