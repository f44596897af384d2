package dev.ublkctl.tui.ui;

import dev.ublkctl.tui.metrics.RowOrder;

/** What the user has chosen to see. Mutable, owned by the GUI thread. */
public final class ViewState {
    /** The devices table or one device's details. */
    public enum Mode { TABLE, DETAIL }

    Mode mode = Mode.TABLE;
    RowOrder order = RowOrder.DEFAULT;
    /** The selected device id, or -1: kept by id so a re-sort or a new device keeps the selection. */
    volatile int selectedId = -1; // also read by the fetcher (which device's series to copy)
    /** Non-null while the user types a filter. */
    StringBuilder filterDraft;
    boolean help;
    int mapScroll;
    /** The detail view's device; it stays open after the device is gone (then shown as gone). */
    int detailId = -1;

    /** Maps pane: list entries that are all zeros; list per-cpu values one cpu a line. */
    boolean showZero, perCpu;
    /** The program listing shown over the screen, or null; its title and scroll. */
    java.util.List<String> listing;
    String listingTitle = "";
    int listingScroll;
    /** The last action's result for the footer, and when it came. */
    String status;
    long statusNanos;

    public Mode mode() { return mode; }
    public boolean showZero() { return showZero; }
    public boolean perCpu() { return perCpu; }
    public java.util.List<String> listing() { return listing; }
    public RowOrder order() { return order; }
    public int selectedId() { return selectedId; }
    public boolean helpShown() { return help; }
    public boolean editingFilter() { return filterDraft != null; }
    public int mapScroll() { return mapScroll; }
    public int detailId() { return detailId; }
}
