package dev.ublkctl.cli.common;

import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.RunDir;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What commands share within one process: the run dir and the open daemon connections,
 * so that the shell's Ctrl-C can cancel a running command by closing its connection.
 */
public final class Session {
    private static volatile Session current;

    private final RunDir runDir;
    private final Set<DaemonClient> open = ConcurrentHashMap.newKeySet();

    public Session(RunDir runDir) { this.runDir = runDir; }

    public static Session current() {
        Session s = current;
        if (s == null) {
            synchronized (Session.class) {
                if (current == null) current = new Session(RunDir.resolve());
                s = current;
            }
        }
        return s;
    }

    /** Forgets the current session so the next command resolves the run dir again (tests). */
    public static void reset() { current = null; }

    public RunDir runDir() { return runDir; }

    /** Connects to the daemon; the caller closes the client (try-with-resources). */
    public DaemonClient connect() {
        open.removeIf(c -> !c.isOpen());
        DaemonClient c = DaemonClient.connect(runDir);
        open.add(c);
        return c;
    }

    /** Closes every open connection: the running calls end as cancelled. */
    public void cancelAll() {
        for (DaemonClient c : open) c.close();
        open.clear();
    }
}
