package dev.ublkctl.tui.ui;

import com.googlecode.lanterna.TerminalSize;
import com.googlecode.lanterna.graphics.TextGraphics;
import com.googlecode.lanterna.terminal.Terminal;
import dev.ublkctl.tui.metrics.Axis;
import dev.ublkctl.tui.metrics.Braille;
import dev.ublkctl.tui.metrics.Chart;
import dev.ublkctl.tui.metrics.MapLines;
import dev.ublkctl.tui.metrics.Metric;
import dev.ublkctl.tui.metrics.Column;
import dev.ublkctl.tui.metrics.DeviceRow;
import dev.ublkctl.tui.metrics.MonitorFrame;
import dev.ublkctl.tui.metrics.Presence;
import dev.ublkctl.tui.metrics.QueueRates;
import dev.ublkctl.tui.metrics.Series;
import dev.ublkctl.tui.metrics.Units;
import dev.ublkctl.tui.model.DeviceSnapshot;
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

    private static final String[] TABLE_KEYS = {"q", "quit", "↑↓", "select", "Enter", "details", "s", "sort",
            "r", "reverse", "f", "filter", "a", "attach/detach", "p", "pause load", "l", "listing", "?", "help"};
    private static final String[] DETAIL_KEYS = {"q", "quit", "Esc", "back", "↑↓ PgUp/PgDn", "maps", "z", "zeros",
            "c", "per cpu", "a", "attach/detach", "p", "pause load", "l", "listing", "?", "help"};

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
        if (v.listing != null) listing(p, v);
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
        // Charts under the table when it fits whole with at least MIN_CHART rows to spare: a band per
        // device when there are few (each band at least MIN_BAND high), else the selected device's.
        int spare = bottom - top - rows.size() - 1;
        if (spare >= MIN_CHART) {
            int y0 = bottom - spare;
            List<DeviceRow> charted = new ArrayList<>();
            for (DeviceRow r : rows) if (f.series().containsKey(r.id())) charted.add(r);
            if (charted.size() > 1 && charted.size() == rows.size() && spare / charted.size() >= MIN_BAND) {
                int band = spare / charted.size();
                for (int i = 0; i < charted.size(); i++) deviceBand(p, f, charted.get(i), 0, y0 + i * band, p.width, band, false);
            } else {
                deviceBand(p, f, rows.get(sel), 0, y0, p.width, spare, true);
            }
            bottom = y0 - 1;
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
        // Rows: per-queue table (a row and an IOPS sparkline per queue), charts, program line, maps.
        int avail = p.height - y - 3;   // queue header, "all" row, footer
        int queueRows = Math.min(r.queues().size(), Math.max(2, avail * 3 / 10));
        int chartH = Math.max(0, Math.min(avail - queueRows - 1 - 5, Math.max(MIN_BAND, avail * 4 / 10)));
        String hdr = String.format(Locale.ROOT, " %-5s %7s %7s %5s %5s %5s %7s %6s %8s %8s %8s",
                "QUEUE", "IOPS", "MB/s", "INFL", "BPF%", "RED%", "SPLIT/s", "ERR", "P99", "RUNS/s", "NS/RUN");
        int sparkX = hdr.length() + 2, sparkW = p.width - sparkX - 1;
        p.bar(y++, hdr + (sparkW >= 8 ? "  IOPS, last minute" : ""), Style.HEADER);
        List<Series> qSeries = f.queueIopsOf(d.id());
        double qTop = 0;
        for (Series qs : qSeries) qTop = Math.max(qTop, nanToZero(qs.max(f.nowSec() - 60, f.nowSec())));
        int shown = 0;
        for (QueueRates q : r.queues()) {
            if (shown == queueRows - 1 && r.queues().size() > queueRows) {
                p.put(1, y++, "... " + (r.queues().size() - shown) + " more queues", Style.DIM);
                break;
            }
            p.put(0, y, queueLine("q" + q.queue(), q), Style.PLAIN);
            if (sparkW >= 8 && q.queue() >= 0 && q.queue() < qSeries.size()) {
                double[] cols = Chart.columns(qSeries.get(q.queue()), f.nowSec(), 60, sparkW * 2, Math.max(2.5 * intervalSec, 1e-9));
                p.put(sparkX, y, Braille.sparkline(cols, sparkW, qTop), Style.CHART);
            }
            y++;
            shown++;
        }
        p.put(0, y++, queueLine("all", r.total()), Style.BOLD);
        if (chartH >= MIN_BAND) {
            int gridRows = Math.clamp(chartH / MIN_BAND, 1, 3);
            int each = chartH / gridRows;
            List<List<Metric>> grid = List.of(List.of(Metric.IOPS, Metric.MBPS), List.of(Metric.BPF_SHARE, Metric.P99_NANOS),
                    List.of(Metric.NS_PER_RUN, Metric.SPLIT_PER_SEC));
            if (gridRows == 1) grid = List.of(List.of(Metric.IOPS, Metric.BPF_SHARE));
            for (int g = 0; g < gridRows; g++) chartRow(p, f, d.id(), "", grid.get(g), 0, y + g * each, p.width, each);
            y += chartH;
        }
        QueueRates t = r.total();
        String prog = d.program() == null ? "no program attached: every I/O goes to the " + nz(d.target()) + " target (a attaches one)"
                : "program " + d.program() + (d.engine() == null ? "" : " on the " + d.engine()) + ": " + Units.count(t.progRuns())
                + " runs, " + Units.count(t.progRunsPerSec()) + " runs/s, avg " + Units.nanos(t.avgRunNanos()) + "/run";
        p.put(1, y++, prog, Style.PLAIN);
        mapPane(p, v, f, d, y, p.height - 1);
    }

    private static double nanToZero(double v) { return Double.isNaN(v) ? 0 : v; }

    /** Smallest chart area (rows) worth drawing under the table; smallest band per device. */
    static final int MIN_CHART = 8, MIN_BAND = 6;
    /** Width of the y-axis labels left of a chart. */
    static final int AXIS_W = 7;

    /**
     * One device's charts in the box (x, y, w, h): a band of charts side by side (IOPS, share, and
     * P99 when wide), or with {@code grid} and room for two rows a 2×2 grid (IOPS, MB/s; share, P99).
     */
    private void deviceBand(Painter p, MonitorFrame f, DeviceRow r, int x, int y, int w, int h, boolean grid) {
        String name = "ublkb" + r.id() + " ";
        List<Metric> metrics = new ArrayList<>(List.of(Metric.IOPS, Metric.BPF_SHARE));
        if (grid && h >= 2 * MIN_BAND) {
            int half = h / 2;
            chartRow(p, f, r.id(), name, List.of(Metric.IOPS, Metric.MBPS), x, y, w, half);
            chartRow(p, f, r.id(), name, List.of(Metric.BPF_SHARE, Metric.P99_NANOS), x, y + half, w, h - half);
            return;
        }
        if (w >= 150) metrics.add(Metric.P99_NANOS);
        chartRow(p, f, r.id(), name, metrics, x, y, w, h);
    }

    /** Charts of {@code metrics} side by side in the box, each a w/n wide. */
    private void chartRow(Painter p, MonitorFrame f, int id, String name, List<Metric> metrics, int x, int y, int w, int h) {
        int n = metrics.size(), each = w / n;
        for (int i = 0; i < n; i++) {
            int cw = i == n - 1 ? w - i * each : each;
            chart(p, f, id, name, metrics.get(i), x + i * each, y, cw - 1, h);
        }
    }

    /**
     * One braille chart in the box (x, y, w, h): a title line with the value now, the y-axis scale
     * at the left, {@code h - 2} rows of plot and a line of time marks. The span is the history
     * there is (at least a minute) up to the whole window.
     */
    void chart(Painter p, MonitorFrame f, int id, String name, Metric m, int x, int y, int w, int h) {
        if (h < 3 || w < AXIS_W + 6) return;
        Series s = f.seriesOf(id, m);
        double now = f.nowSec();
        double span = s.size() == 0 ? 60 : Math.clamp(now - s.times()[0], 60, f.windowSec());
        int plotW = w - AXIS_W - 1, plotH = h - 2;
        double[] cols = Chart.columns(s, now, span, plotW * 2, Math.max(2.5 * intervalSec, 1e-9));
        double last = s.last();
        Braille.Plot plot;
        double top;
        String title;
        java.util.function.DoubleFunction<String> fmt;
        boolean share = m == Metric.BPF_SHARE;
        if (share) {
            double[] upper = new double[cols.length];
            for (int i = 0; i < cols.length; i++) upper[i] = Double.isNaN(cols[i]) ? Double.NaN : 1 - cols[i];
            top = 1;
            plot = Braille.stacked(cols, upper, plotW, plotH, 1);
            fmt = v -> Units.percent(v);
            title = name + "in BPF " + Units.percent(last) + " / redirected " + Units.percent(Double.isNaN(last) ? last : 1 - last);
        } else {
            double max = s.max(now - span, now);
            top = Axis.niceTop(max);
            plot = Braille.area(cols, plotW, plotH, top);
            fmt = switch (m) {
                case P99_NANOS, NS_PER_RUN -> Units::nanos;
                case MBPS -> v -> Units.mbps(v);
                default -> Units::count;
            };
            title = name + label(m) + " " + fmt.apply(last) + "  (max " + fmt.apply(max) + ")";
        }
        p.put(x, y, Column.fit(title, w, false), Style.BOLD);
        String[] labels = Axis.yLabels(top, plotH, AXIS_W, fmt);
        Style main = share ? Style.CHART_BPF : Style.CHART;
        for (int r = 0; r < plotH; r++) {
            p.put(x, y + 1 + r, labels[r] + "┤", Style.DIM);
            String row = plot.rows()[r];
            for (int c = 0; c < row.length(); c++) {
                p.put(x + AXIS_W + 1 + c, y + 1 + r, String.valueOf(row.charAt(c)), plot.upper()[r][c] ? Style.CHART2 : main);
            }
        }
        p.put(x + AXIS_W + 1, y + h - 1, Axis.timeMarks(span, plotW), Style.DIM);
    }

    static String label(Metric m) {
        return switch (m) {
            case IOPS -> "IOPS";
            case MBPS -> "MB/s";
            case BPF_SHARE -> "in BPF / redirected";
            case SPLIT_PER_SEC -> "split parts/s";
            case P99_NANOS -> "P99 (interval)";
            case NS_PER_RUN -> "program ns/run";
        };
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

    /**
     * The map lines of a device as the pane shows them (zeros folded, per-cpu summed, changes marked),
     * then its program's last bpf_printk lines.
     */
    static List<MapLines.Line> mapLines(DeviceSnapshot d, MonitorFrame f, ViewState v) {
        List<MapLines.Line> out = new ArrayList<>(MapLines.of(d.maps(), f.mapChanges(), v.showZero, v.perCpu));
        List<String> t = traceLines(d);
        for (int i = 0; i < t.size(); i++) out.add(new MapLines.Line(t.get(i), i == 0 ? MapLines.Kind.HEADER : MapLines.Kind.ENTRY));
        return out;
    }

    /** The program's last bpf_printk lines under a header, or none. */
    static List<String> traceLines(DeviceSnapshot d) {
        List<String> out = new ArrayList<>();
        if (!d.trace().isEmpty()) {
            out.add("▸ bpf_printk, last " + d.trace().size() + " (ublkctl prog trace -n " + d.id() + " follows)");
            for (String l : d.trace()) out.add("    " + l);
        }
        return out;
    }

    private void mapPane(Painter p, ViewState v, MonitorFrame f, DeviceSnapshot d, int top, int bottom) {
        if (top >= bottom) return;
        List<MapLines.Line> lines = mapLines(d, f, v);
        int rows = bottom - top - 1;
        int maxScroll = Math.max(0, lines.size() - rows);
        if (v.mapScroll > maxScroll) v.mapScroll = maxScroll;
        String range = lines.isEmpty() ? "" : "  lines " + (v.mapScroll + 1) + "-" + Math.min(lines.size(), v.mapScroll + rows)
                + " of " + lines.size() + (lines.size() > rows ? " (PgUp/PgDn)" : "");
        p.bar(top, " MAPS (BTF-decoded, live; changed values highlighted)" + range, Style.HEADER);
        if (lines.isEmpty()) {
            p.put(2, top + 1, d.program() == null ? "no program, no maps" : "no maps (yet)", Style.DIM);
            return;
        }
        for (int i = 0; i < rows && v.mapScroll + i < lines.size(); i++) {
            MapLines.Line l = lines.get(v.mapScroll + i);
            Style st = switch (l.kind()) {
                case HEADER -> Style.BOLD;
                case CHANGED -> Style.CHANGED;
                case FOLDED, CPU -> Style.DIM;
                case ENTRY -> Style.PLAIN;
            };
            p.put(1, top + 1 + i, l.text(), st);
        }
    }

    /** The program listing (prog dump --source) over the screen, scrollable; Esc closes it. */
    private void listing(Painter p, ViewState v) {
        int top = 1, bottom = p.height - 1;
        int rows = bottom - top - 1;
        List<String> lines = v.listing;
        int maxScroll = Math.max(0, lines.size() - rows);
        if (v.listingScroll > maxScroll) v.listingScroll = maxScroll;
        p.bar(top, " " + v.listingTitle + "   lines " + (lines.isEmpty() ? 0 : v.listingScroll + 1) + "-"
                + Math.min(lines.size(), v.listingScroll + rows) + " of " + lines.size() + "   (↑↓ PgUp/PgDn, Esc closes)", Style.HEADER);
        for (int i = 0; i < rows; i++) {
            int y = top + 1 + i;
            p.bar(y, "", Style.PLAIN);
            if (v.listingScroll + i >= lines.size()) continue;
            String l = lines.get(v.listingScroll + i);
            p.put(1, y, l, l.stripLeading().startsWith(";") ? Style.DIM : Style.PLAIN);
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
        if (v.status != null && System.nanoTime() - v.statusNanos < STATUS_NANOS) {
            p.bar(y, " " + v.status, Style.KEYTEXT);
            return;
        }
        String[] keys = v.mode == ViewState.Mode.DETAIL ? DETAIL_KEYS : TABLE_KEYS;
        int x = 0;
        for (int i = 0; i < keys.length; i += 2) {
            x = p.put(x, y, " " + keys[i], Style.KEY);
            x = p.put(x, y, " " + keys[i + 1] + " ", Style.KEYTEXT);
        }
    }

    /** How long an action's result stays in the footer. */
    static final long STATUS_NANOS = 4_000_000_000L;

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
            "  z              maps: show / fold entries that are all zeros",
            "  c              maps: per-cpu values summed / one line per cpu",
            "  a              detach the selected device's program, or attach one",
            "                 (the one detached here, else the target's bundled one)",
            "  p              pause / resume the load the demo runs on the device",
            "  l              the program's listing (prog dump --source)",
            "  ?              this help (any key closes it)",
            "",
            "BPF% = I/O parts the program completed in BPF, RED% = parts redirected",
            "to the userspace target; SPLIT/s = extra parts from CONTINUE;",
            "P99 = 99th percentile service time over the last interval. Charts are",
            "braille (2x4 dots a cell): value scale on the left, time marks below.",
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
