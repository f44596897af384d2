package dev.ublkctl.cli.cmd;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.cli.JsonText;
import dev.ublkctl.cli.Style;

import java.io.PrintWriter;
import java.util.Iterator;
import java.util.Map;

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

    void show(JsonNode p) {
        if (!tty) return;
        StringBuilder sb = new StringBuilder();
        for (Iterator<Map.Entry<String, JsonNode>> it = p.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().equals("request")) continue;
            if (!sb.isEmpty()) sb.append("  ");
            sb.append(e.getKey()).append(' ').append(JsonText.scalar(e.getValue()));
        }
        err.print("\r\033[K" + sb);
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
