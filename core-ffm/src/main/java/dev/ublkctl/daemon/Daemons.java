package dev.ublkctl.daemon;

import java.time.Instant;

/** Process identity checks shared by the daemon and its clients. */
public final class Daemons {
    private Daemons() {}

    /** Start time of this process in epoch ms, as {@link #alive} compares it. */
    public static long selfStart() {
        return ProcessHandle.current().info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    }

    /** True if pid runs and (when known) started at {@code startMs}: a reused pid is not alive. */
    public static boolean alive(long pid, long startMs) {
        if (pid <= 0) return false;
        var h = ProcessHandle.of(pid);
        if (h.isEmpty() || !h.get().isAlive()) return false;
        if (startMs == 0) return true;
        return h.get().info().startInstant().map(i -> Math.abs(i.toEpochMilli() - startMs) < 2000).orElse(true);
    }

    /**
     * True if pid is stopped (SIGSTOP, a debugger): it holds its socket but will answer nothing,
     * so a client can say so at once instead of waiting out a timeout.
     */
    public static boolean stopped(long pid) {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
            int close = stat.lastIndexOf(')');   // the command name may hold spaces and parentheses
            char state = stat.charAt(close + 2);
            return state == 'T' || state == 't';
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }
}
