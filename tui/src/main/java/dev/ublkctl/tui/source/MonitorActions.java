package dev.ublkctl.tui.source;

import java.util.List;

/**
 * What the monitor's action keys do. Each call may block (an RPC) and is made off the GUI thread;
 * a failure is an exception whose message the footer shows.
 */
public interface MonitorActions {

    /**
     * Detaches the program of device {@code id}, or attaches one when it has none: the one
     * detached here last, else the bundled program of its target. Returns what was done.
     */
    String toggleProgram(int id);

    /** The program's listing with its C source lines ({@code prog dump --source}); the first line is a title. */
    List<String> listing(int id);

    /** Pauses or resumes the load this process runs on device {@code id}; returns what was done. */
    default String toggleLoad(int id) {
        throw new UnsupportedOperationException("no load runs from this monitor (ublkctl demo runs one)");
    }

    /** Actions that are not available (a monitor without a daemon connection, tests). */
    MonitorActions NONE = new MonitorActions() {
        @Override public String toggleProgram(int id) { throw new UnsupportedOperationException("no daemon to act on"); }
        @Override public List<String> listing(int id) { throw new UnsupportedOperationException("no daemon to ask"); }
    };
}
