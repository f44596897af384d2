package dev.ublkctl.tui.source;

import dev.ublkctl.tui.model.MonitorSnapshot;

import java.util.OptionalInt;

/**
 * Where the monitor's numbers come from. Called from one fetcher thread, never the GUI thread.
 * Trouble reaching the daemon is not an exception: it is reported in the snapshot's state.
 */
public interface MonitorSource extends AutoCloseable {

    /**
     * Takes a snapshot of every device. The maps of the program of device {@code focus} (if
     * given) are read too; other devices' maps are not (they are only drawn for the focused one).
     */
    MonitorSnapshot poll(OptionalInt focus);

    /** Where the data comes from, for the title bar (e.g. the daemon's socket). */
    String describe();

    @Override
    void close();
}
