package dev.ublkctl.tui.ui;

import com.googlecode.lanterna.TerminalSize;
import com.googlecode.lanterna.graphics.TextGraphics;
import com.googlecode.lanterna.terminal.Terminal;
import dev.ublkctl.tui.metrics.Chart;
import dev.ublkctl.tui.metrics.Column;
import dev.ublkctl.tui.metrics.DeviceRow;
import dev.ublkctl.tui.metrics.MonitorFrame;
import dev.ublkctl.tui.metrics.Presence;
import dev.ublkctl.tui.metrics.QueueRates;
import dev.ublkctl.tui.metrics.Series;
import dev.ublkctl.tui.metrics.Units;
import dev.ublkctl.tui.model.DeviceSnapshot;
import dev.ublkctl.tui.model.MapEntry;
import dev.ublkctl.tui.model.MapSnapshot;
import dev.ublkctl.tui.model.SourceState;
import dev.ublkctl.tui.ui.Painter.Style;

import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;

/** Draws one frame for a view state. Pure drawing: all numbers come ready from the frame. */
public final class Renderer {

    /** Columns dropped first when the terminal is too narrow for all of them. */
    private static final List<Column> DROP_ORDER = List.of(Column.BACKEND, Column.SPLIT, Column.SIZE,
            Column.QUEUES, Column.REDIRECT, Column.INFLIGHT, Column.TARGET, Column.MBPS, Column.ERRORS, Column.P99);

    private static final String[] TABLE_KEYS = {"q", "quit", "↑↓/jk", "select", "Enter", "details", "s", "sort",
            "r", "reverse", "f", "filter", "?", "help"};
    private static final String[] DETAIL_KEYS = {"q", "quit", "Esc", "back", "↑↓/jk PgUp/PgDn", "scroll maps", "?", "help"};

    private final String sourceName;
    private final double intervalSec;
    private final boolean interactive;

    public Renderer(String sourceName, double intervalSec) { this(sourceName, intervalSec, true); }

    /** @param interactive false for the one-frame text of {@code --once}: no key help footer */
    public Renderer(String sourceName, double intervalSec, boolean interactive) {
        this.sourceName = sourceName;
        this.intervalSec = intervalSec;
        this.interactive = interactive;
    }

    /** The grid copied to the screen last, to copy only what changed. */
    private Painter previous;

    /**
     * Draws the frame on the terminal. Consecutive calls assume nothing else wrote to it in
     * between (only changed cells are written); {@link #invalidate()} forces a full copy.
     * Returns the number of cells written.
     */
    public int draw(Terminal t, TerminalSize size, ViewState v, MonitorFrame f) throws IOException {
        Painter p = new Painter(size.getColumns(), size.getRows());
        paint(p, v, f);
        int n = p.copyTo(t, previous);
        previous = p;
        return n;
    }

    /** Draws the frame on a Lanterna text graphics (screen or image), every cell. */
    public void draw(TextGraphics g, TerminalSize size, ViewState v, MonitorFrame f) {
        Painter p = new Painter(size.getColumns(), size.getRows());
        paint(p, v, f);
        p.copyTo(g);
    }

    /** The next draw writes every cell (after a resize or a complete refresh). */
    public void invalidate() { previous = null; }

    /** Draws the frame as plain text lines of the given size. */
    public List<String> text(int columns, int rows, ViewState v, MonitorFrame f) {
        Painter p = new Painter(columns, rows);
        paint(p, v, f);
        List<String> out = new ArrayList<>();
        for (int r = 0; r < rows; r++) out.add(p.line(r));
        return out;
    }

    private void paint(Painter p, ViewState v, MonitorFrame f) {
        if (f == null) {
            p.bar(0, " ublkctl top  " + sourceName, Style.BAR);
            p.put(2, 2, "waiting for the first snapshot...", Style.DIM);
        } else if (v.mode == ViewState.Mode.DETAIL) {
            drawDetail(p, v, f);
        } else {
            drawTable(p, v, f);
        }
        if (interactive) footer(p, v);
        if (v.help) help(p);
    }

    // ---- devices table --------------------------------------------------------------------

    /** The columns that fit in {@code width}, dropping the least important first. */
    static List<Column> columnsFor(int width) {
        EnumSet<Column> cols = EnumSet.allOf(Column.class);
        for (Column drop : DROP_ORDER) {
            if (tableWidth(cols) + 1 <= width) break; // +1: the row's leading blank
            cols.remove(drop);
        }
        return new ArrayList<>(cols);
    }

    private static int tableWidth(Iterable<Column> cols) {
        int w = 0;
        for (Column c : cols) w += c.width() + 1;
        return w;
    }

    private void drawTable(Painter p, ViewState v, MonitorFrame f) {
        List<DeviceRow> rows = v.order.apply(f.rows());
        title(p, f, rows.size() + (rows.size() == f.rows().size() ? "" : " of " + f.rows().size())
                + " device" + (f.rows().size() == 1 ? "" : "s"), v);
        List<Column> cols = columnsFor(p.width);
        StringBuilder hdr = new StringBuilder(" ");
        for (Column c : cols) {
            String h = c.header();
            if (c == v.order.column()) h = h + (v.order.descending() ? "▼" : "▲");
            hdr.append(Column.fit(h, c.width(), c.rightAligned())).append(' ');
        }
        p.bar(2, hdr.toString(), Style.HEADER);
        summary(p, f);
        int top = 3, bottom = interactive ? p.height - 2 : p.height;
        if (rows.isEmpty()) {
            empty(p, f, v, top + 1);
            return;
        }
        int sel = selectedIndex(rows, v);
        // The selected device's charts under the table, when the terminal has room for both.
        int chartRows = interactive && p.height - top - rows.size() >= 14 ? 7 : 0;
        if (chartRows > 0) {
            bottom -= chartRows;
            charts(p, f, rows.get(sel).id(), bottom + 1, 2, "ublkb" + rows.get(sel).id() + " ");
        }
        int visible = Math.max(1, bottom - top);
        int first = Math.max(0, Math.min(sel - visible + 1, rows.size() - visible));
        first = Math.max(0, Math.min(first, sel));
        for (int i = first; i < rows.size() && top + i - first < bottom; i++) {
            DeviceRow r = rows.get(i);
            int y = top + i - first;
            StringBuilder line = new StringBuilder(" ");
            for (Column c : cols) line.append(c.fit(c.cell(r))).append(' ');
            Style st = i == sel ? Style.SELECTED : rowStyle(r);
            if (i == sel) p.bar(y, line.toString(), st);
            else p.put(0, y, line.toString(), st);
        }
    }

    /** Row 1: totals over live devices, or why there are none. */
    private static void summary(Painter p, MonitorFrame f) {
        if (f.state() == SourceState.LOST) {
            p.put(1, 1, "daemon stopped answering: " + nz(f.snapshot().message()) + "; showing last known devices", Style.BAD);
            return;
        }
        double iops = 0, mb = 0;
        long errs = 0, infl = 0;
        boolean any = false;
        for (DeviceRow r : f.rows()) {
            QueueRates t = r.total();
            errs += t.errors();
            infl += t.inFlight();
            if (Double.isNaN(t.iops())) continue;
            any = true;
            iops += t.iops();
            mb += t.mbPerSec();
        }
        if (!any) return;
        double share = weightedBpfShare(f.rows());
        p.put(1, 1, "total " + Units.count(iops) + " IOPS   " + Units.mbps(mb) + " MB/s   " + infl + " in flight   "
                + "handled in BPF " + Units.percent(share) + ", redirected " + Units.percent(Double.isNaN(share) ? share : 1 - share)
                + "   errors " + Units.count(errs), Style.BOLD);
    }

    /** BPF share over all devices, weighted by each device's IOPS. */
    static double weightedBpfShare(List<DeviceRow> rows) {
        double w = 0, s = 0;
        for (DeviceRow r : rows) {
            double share = r.total().bpfShare(), io = r.total().iops();
            if (Double.isNaN(share) || Double.isNaN(io) || io <= 0) continue;
            w += io;
            s += share * io;
        }
        return w == 0 ? Double.NaN : s / w;
    }

    static int selectedIndex(List<DeviceRow> rows, ViewState v) {
        for (int i = 0; i < rows.size(); i++) if (rows.get(i).id() == v.selectedId) return i;
        return 0;
    }

    private static Style rowStyle(DeviceRow r) {
        return switch (r.presence()) {
            case GONE, DAEMON_LOST -> Style.DIM;
            case NEW -> Style.GOOD;
            case LIVE -> r.total().errorsPerSec() > 0 ? Style.WARN : Style.PLAIN;
        };
    }

    private void empty(Painter p, MonitorFrame f, ViewState v, int y) {
        if (f.state() == SourceState.NO_DAEMON) {
            p.put(2, y, "No ublkctl daemon is running, so there are no devices.", Style.BOLD);
            p.put(2, y + 1, "Create one with 'ublkctl add', or run 'ublkctl demo'. This view updates by itself.", Style.PLAIN);
            if (f.snapshot().message() != null) p.put(2, y + 3, f.snapshot().message(), Style.DIM);
        } else if (f.state() == SourceState.LOST) {
            p.put(2, y, "The daemon stopped answering: " + nz(f.snapshot().message()), Style.BAD);
            p.put(2, y + 1, "Waiting for it to come back.", Style.PLAIN);
        } else if (!f.rows().isEmpty()) {
            p.put(2, y, "No device matches the filter '" + v.order.filter() + "' (f, then Esc, clears it).", Style.BOLD);
        } else {
            p.put(2, y, "No devices. Create one with 'ublkctl add', or run 'ublkctl demo'.", Style.BOLD);
        }
    }

    private void title(Painter p, MonitorFrame f, String what, ViewState v) {
        String state = switch (f.state()) {
            case CONNECTED -> "daemon ok";
            case NO_DAEMON -> "no daemon";
            case LOST -> "DAEMON LOST";
        };
        String s = " ublkctl top   " + what + "   " + state + " (" + sourceName + ")   every "
                + String.format(Locale.ROOT, "%.1fs", intervalSec);
        if (!v.order.filter().isEmpty()) s += "   filter: " + v.order.filter();
        p.bar(0, s, f.state() == SourceState.LOST ? Style.BAR_ALERT : Style.BAR);
    }

    // ---- one device -----------------------------------------------------------------------

    private void drawDetail(Painter p, ViewState v, MonitorFrame f) {
        var rowOpt = f.row(v.detailId);
        if (rowOpt.isEmpty()) {
            p.bar(0, " ublkctl top   device " + v.detailId, Style.BAR);
            p.put(2, 2, "Device " + v.detailId + " is gone. Esc goes back to the list.", Style.BOLD);
            return;
        }
        DeviceRow r = rowOpt.get();
        DeviceSnapshot d = r.device();
        String head = " ublkb" + d.id() + "   " + nz(d.target()) + " on " + nz(d.backend()) + "   " + r.stateWord()
                + "   " + d.queues() + " queues x " + d.depth() + "   " + Units.bytes(d.size())
                + "   program " + (d.program() == null ? "none" : d.program() + (d.engine() == null ? "" : " (" + d.engine() + ")"));
        p.bar(0, head, f.state() == SourceState.LOST || r.presence() == Presence.GONE
                ? Style.BAR_ALERT : Style.BAR);
        int y = 1;
        if (r.presence() == Presence.GONE) p.put(1, y, "this device was deleted; last known values", Style.BAD);
        else if (r.presence() == Presence.DAEMON_LOST) p.put(1, y, "its daemon stopped answering; last known values", Style.BAD);
        else if (d.error() != null) p.put(1, y, "stats: " + d.error(), Style.WARN);
        y++;
        // Per-queue table.
        String hdr = String.format(Locale.ROOT, " %-5s %7s %7s %5s %5s %5s %7s %6s %8s %8s %8s",
                "QUEUE", "IOPS", "MB/s", "INFL", "BPF%", "RED%", "SPLIT/s", "ERR", "P99", "RUNS/s", "NS/RUN");
        p.bar(y++, hdr, Style.HEADER);
        int maxQueueRows = Math.max(1, (p.height - 10) / 3);
        int shown = 0;
        for (QueueRates q : r.queues()) {
            if (shown++ >= maxQueueRows) {
                p.put(1, y++, "... " + (r.queues().size() - maxQueueRows) + " more queues", Style.DIM);
                break;
            }
            p.put(0, y++, queueLine("q" + q.queue(), q), Style.PLAIN);
        }
        p.put(0, y++, queueLine("all", r.total()), Style.BOLD);
        y++;
        y = charts(p, f, d.id(), y, p.height >= 34 ? 3 : p.height >= 26 ? 2 : 1, "");
        QueueRates t = r.total();
        String prog = d.program() == null ? "no program attached: every I/O goes to the " + nz(d.target()) + " target"
                : "program " + d.program() + ": " + Units.count(t.progRuns()) + " runs, " + Units.count(t.progRunsPerSec())
                + " runs/s, avg " + Units.nanos(t.avgRunNanos()) + "/run";
        p.put(1, y++, prog, Style.PLAIN);
        mapPane(p, v, d, y, p.height - 1);
    }

    /**
     * The IOPS chart ({@code ioRows} high) and the redirect-share chart (one row) of a device from
     * row {@code y}; returns the row after them. The charts span the history there is (at least a
     * minute) up to the whole window, so a device watched for 40 s fills the chart.
     */
    private static int charts(Painter p, MonitorFrame f, int id, int y, int ioRows, String label) {
        int chartW = Math.max(10, p.width - 2);
        Series io = f.iopsOf(id), red = f.redirectOf(id);
        double span = io.size() == 0 ? 60 : Math.clamp(f.nowSec() - io.times()[0], 60, f.windowSec());
        double ioMax = io.max(f.nowSec() - span, f.nowSec());
        String window = window(span);
        p.put(1, y++, label + "IOPS, last " + window + ": now " + Units.count(io.last()) + ", max " + Units.count(ioMax), Style.BOLD);
        for (String line : Chart.render(Chart.columns(io, f.nowSec(), span, chartW), ioRows, ioMax)) {
            p.put(1, y++, line, Style.CHART);
        }
        p.put(1, y++, label + "redirected to the server (0-100%), last " + window + ": now " + Units.percent(red.last()), Style.BOLD);
        for (String line : Chart.render(Chart.columns(red, f.nowSec(), span, chartW), 1, 1.0)) {
            p.put(1, y++, line, Style.CHART2);
        }
        return y;
    }

    private static String queueLine(String name, QueueRates q) {
        return String.format(Locale.ROOT, " %-5s %7s %7s %5d %5s %5s %7s %6s %8s %8s %8s", name,
                Units.count(q.iops()), Units.mbps(q.mbPerSec()), q.inFlight(), Units.percent(q.bpfShare()),
                Units.percent(q.redirectShare()), Units.count(q.splitPerSec()), Units.count(q.errors()),
                Units.nanos(q.p99Nanos()), Units.count(q.progRunsPerSec()), Units.nanos(q.avgRunNanos()));
    }

    private static String window(double sec) {
        return sec >= 120 ? Math.round(sec / 60) + " min" : Math.round(sec) + " s";
    }

    /** The map lines of a device: a header per map, then its entries. */
    static List<String> mapLines(DeviceSnapshot d) {
        List<String> out = new ArrayList<>();
        for (MapSnapshot m : d.maps()) {
            out.add("▸ " + m.name() + "  " + nz(m.type()) + "  " + m.entries().size() + "/" + m.maxEntries() + " entries"
                    + (m.error() == null ? "" : "  (" + m.error() + ")"));
            for (MapEntry e : m.entries()) out.add("    " + e.key() + " → " + e.value());
        }
        if (!d.trace().isEmpty()) {
            out.add("▸ bpf_printk, last " + d.trace().size() + " (ublkctl prog trace -n " + d.id() + " follows)");
            for (String l : d.trace()) out.add("    " + l);
        }
        return out;
    }

    private void mapPane(Painter p, ViewState v, DeviceSnapshot d, int top, int bottom) {
        if (top >= bottom) return;
        List<String> lines = mapLines(d);
        int rows = bottom - top - 1;
        int maxScroll = Math.max(0, lines.size() - rows);
        if (v.mapScroll > maxScroll) v.mapScroll = maxScroll;
        String range = lines.isEmpty() ? "" : "  lines " + (v.mapScroll + 1) + "-" + Math.min(lines.size(), v.mapScroll + rows)
                + " of " + lines.size();
        p.bar(top, " MAPS (BTF-decoded, live)" + range, Style.HEADER);
        if (lines.isEmpty()) {
            p.put(2, top + 1, d.program() == null ? "no program, no maps" : "no maps (yet)", Style.DIM);
            return;
        }
        for (int i = 0; i < rows && v.mapScroll + i < lines.size(); i++) {
            String l = lines.get(v.mapScroll + i);
            p.put(1, top + 1 + i, l, l.startsWith("▸") ? Style.BOLD : Style.PLAIN);
        }
    }

    // ---- footer and help ------------------------------------------------------------------

    private void footer(Painter p, ViewState v) {
        int y = p.height - 1;
        if (v.filterDraft != null) {
            p.bar(y, " filter: " + v.filterDraft + "_   (Enter applies, Esc clears; words match id, target, backend, state, program; key=value for one field)",
                    Style.KEYTEXT);
            return;
        }
        p.bar(y, "", Style.KEYTEXT);
        String[] keys = v.mode == ViewState.Mode.DETAIL ? DETAIL_KEYS : TABLE_KEYS;
        int x = 0;
        for (int i = 0; i < keys.length; i += 2) {
            x = p.put(x, y, " " + keys[i], Style.KEY);
            x = p.put(x, y, " " + keys[i + 1] + " ", Style.KEYTEXT);
        }
    }

    static final String[] HELP = {
            "ublkctl top: live view of ublk devices and their BPF programs",
            "",
            "  q, Ctrl-C      quit (the terminal is restored)",
            "  ↑ ↓, j k       select a device",
            "  Home End       first / last device",
            "  Enter          details: per-queue rows, charts, program, maps",
            "  Esc, ←, Bksp   back to the device list",
            "  s              sort by the next column;  r  reverse the order",
            "  f              filter: type words (id, target, backend, state, program)",
            "  PgUp PgDn j k  scroll the map pane (details)",
            "  ?              this help (any key closes it)",
            "",
            "BPF% = I/O parts the program completed in BPF, RED% = parts redirected",
            "to the userspace target; SPLIT/s = extra parts from CONTINUE;",
            "P99 = 99th percentile service time over the last interval (since the",
            "device started when the daemon sends percentiles, not a histogram).",
    };

    private void help(Painter p) {
        int w = 0;
        for (String s : HELP) w = Math.max(w, s.length());
        w += 4;
        int h = HELP.length + 2;
        int x0 = Math.max(0, (p.width - w) / 2), y0 = Math.max(0, (p.height - h) / 2);
        p.put(x0, y0, "┌" + "─".repeat(w - 2) + "┐", Style.BOLD);
        for (int i = 0; i < HELP.length; i++) {
            p.put(x0, y0 + 1 + i, "│ " + Column.fit(HELP[i], w - 4, false) + " │", Style.BOLD);
        }
        p.put(x0, y0 + h - 1, "└" + "─".repeat(w - 2) + "┘", Style.BOLD);
    }

    private static String nz(String s) { return s == null ? "-" : s; }
}
