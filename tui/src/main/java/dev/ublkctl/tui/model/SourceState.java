package dev.ublkctl.tui.model;

/** Whether the monitor could reach the daemon when it took a snapshot. */
public enum SourceState {
    /** The daemon answered: the device list is complete. */
    CONNECTED,
    /** No daemon runs (no socket, or nothing answers): there are no devices to show. */
    NO_DAEMON,
    /** The daemon answered before but has gone (crashed or was killed) since. */
    LOST
}
