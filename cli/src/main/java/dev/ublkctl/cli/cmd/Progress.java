package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.Sizes;
import dev.ublkctl.cli.common.Style;
import dev.ublkctl.daemon.BenchView;

import java.io.PrintWriter;

/** Shows the daemon's progress notifications on one stderr line (only on a terminal). */
final class Progress {
    private final PrintWriter err;
    private final boolean tty;
    private boolean shown;

    Progress(PrintWriter err, Style style) {
        this.err = err;
        var c = System.console();
        this.tty = c != null && c.isTerminal();
    }

    void show(BenchView.Progress p) {
        if (!tty) return;
        err.print(String.format(java.util.Locale.ROOT, "\r\033[Kelapsed %.1f s  ios %d  %s  iops %.0f  %.1f MB/s",
                p.elapsedSec(), p.ios(), Sizes.format(p.bytes()), p.iops(), p.mbPerSec()));
        err.flush();
        shown = true;
    }

    void done() {
        if (shown) {
            err.print("\r\033[K");
            err.flush();
        }
    }
}
