package dev.ublkctl.tui.metrics;

import java.util.Comparator;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/** The devices table's columns: header, width, alignment, cell text and sort order. */
public enum Column {
    ID("ID", 4, true, r -> "" + r.id(), r -> r.id()),
    TARGET("TARGET", 7, false, r -> nz(r.device().target()), null),
    BACKEND("BACKEND", 10, false, r -> nz(r.device().backend()), null),
    STATE("STATE", 6, false, DeviceRow::stateWord, null),
    QUEUES("QxD", 8, true, r -> r.device().queues() + "x" + r.device().depth(),
            r -> (double) r.device().queues() * r.device().depth()),
    SIZE("SIZE", 5, true, r -> Units.bytes(r.device().size()), r -> r.device().size()),
    PROGRAM("PROGRAM", 12, false, r -> r.device().program() == null ? "-" : r.device().program(), null),
    IOPS("IOPS", 6, true, r -> Units.count(r.total().iops()), r -> r.total().iops()),
    MBPS("MB/s", 6, true, r -> Units.mbps(r.total().mbPerSec()), r -> r.total().mbPerSec()),
    INFLIGHT("INFL", 5, true, r -> "" + r.total().inFlight(), r -> r.total().inFlight()),
    BPF("BPF%", 5, true, r -> Units.percent(r.total().bpfShare()), r -> r.total().bpfShare()),
    REDIRECT("RED%", 5, true, r -> Units.percent(r.total().redirectShare()), r -> r.total().redirectShare()),
    SPLIT("SPLIT/s", 8, true, r -> Units.count(r.total().splitPerSec()), r -> r.total().splitPerSec()),
    ERRORS("ERR", 5, true, r -> Units.count(r.total().errors()), r -> r.total().errors()),
    P99("P99", 7, true, r -> Units.nanos(r.total().p99Nanos()), r -> r.total().p99Nanos());

    private final String header;
    private final int width;
    private final boolean right;
    private final Function<DeviceRow, String> cell;
    private final ToDoubleFunction<DeviceRow> number;

    Column(String header, int width, boolean right, Function<DeviceRow, String> cell, ToDoubleFunction<DeviceRow> number) {
        this.header = header;
        this.width = width;
        this.right = right;
        this.cell = cell;
        this.number = number;
    }

    private static String nz(String s) { return s == null ? "-" : s; }

    public String header() { return header; }
    public int width() { return width; }
    public boolean rightAligned() { return right; }
    public String cell(DeviceRow r) { return cell.apply(r); }
    public boolean numeric() { return number != null; }

    /** Numbers sort biggest first by default (the busiest device on top), text A to Z. */
    public boolean descendingByDefault() { return numeric() && this != ID; }

    /**
     * Ascending order of this column; unknown numbers (NaN) always sort last, whatever the
     * direction; ties fall back to the device id.
     */
    public Comparator<DeviceRow> comparator(boolean descending) {
        Comparator<DeviceRow> c;
        if (number != null) {
            c = (a, b) -> {
                double x = number.applyAsDouble(a), y = number.applyAsDouble(b);
                boolean nx = Double.isNaN(x), ny = Double.isNaN(y);
                if (nx || ny) return nx == ny ? 0 : nx ? 1 : -1;
                return descending ? Double.compare(y, x) : Double.compare(x, y);
            };
        } else {
            Comparator<DeviceRow> text = Comparator.comparing(cell, String.CASE_INSENSITIVE_ORDER);
            c = descending ? text.reversed() : text;
        }
        return c.thenComparingInt(DeviceRow::id);
    }

    /** The text cell padded or cut to the column's width. */
    public String fit(String s) { return fit(s, width, right); }

    public static String fit(String s, int w, boolean right) {
        if (s.length() > w) return w <= 1 ? s.substring(0, w) : s.substring(0, w - 1) + "~";
        String pad = " ".repeat(w - s.length());
        return right ? pad + s : s + pad;
    }
}
