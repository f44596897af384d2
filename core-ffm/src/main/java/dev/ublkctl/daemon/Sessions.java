package dev.ublkctl.daemon;

import dev.ublkctl.sys.Libc;

/** Process-session helpers for the daemon. */
final class Sessions {
    private Sessions() {}

    private static final long SETSID = System.getProperty("os.arch").equals("aarch64") ? 157 : 112;

    /**
     * setsid(2): the spawned daemon leaves the caller's session and process group, so a Ctrl-C
     * in the terminal (or the shell) that started it does not reach it. Fails harmlessly
     * (EPERM) when already a group leader, e.g. under {@code add --foreground}.
     */
    static void detachFromTerminal() {
        Libc.syscall(SETSID, 0, 0, 0, 0, 0, 0);
    }
}
