package dev.ublkctl.tui.metrics;

/** How a device row relates to the daemon's current list. */
public enum Presence {
    /** In the list and was in the previous one. */
    LIVE("live"),
    /** Appeared since the monitor started (shown as new for a few seconds). */
    NEW("new"),
    /** Was in the list, is not any more (deleted); kept on screen a little while. */
    GONE("gone"),
    /** Its daemon stopped answering: the row shows the last known values. */
    DAEMON_LOST("daemon lost");

    private final String word;

    Presence(String word) { this.word = word; }

    public String word() { return word; }
}
