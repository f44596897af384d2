package dev.ublkctl.tui.ui;

import com.googlecode.lanterna.TerminalSize;
import com.googlecode.lanterna.input.KeyStroke;
import com.googlecode.lanterna.input.KeyType;
import com.googlecode.lanterna.terminal.Terminal;
import dev.ublkctl.tui.metrics.DeviceRow;
import dev.ublkctl.tui.metrics.MonitorFrame;
import dev.ublkctl.tui.source.MonitorActions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.OptionalInt;

/**
 * The monitor's screen: key handling and drawing on a Lanterna {@link Terminal} (in private mode,
 * cursor hidden: the caller sets it up). Everything here runs on the one GUI thread; frames
 * arrive ready-made from the fetcher; a resize is noticed through the terminal's listener.
 */
public final class MonitorUi {

    private final Terminal terminal;
    private volatile TerminalSize pendingSize;
    private TerminalSize size;
    private final Renderer renderer;
    private final ViewState view = new ViewState();
    private MonitorFrame frame;
    private volatile int focus = -1;
    private final MonitorActions actions;
    /** Results of actions run off the GUI thread, applied on it. */
    private final java.util.concurrent.ConcurrentLinkedQueue<java.util.function.Consumer<ViewState>> results =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

    public MonitorUi(Terminal terminal, Renderer renderer) throws IOException { this(terminal, renderer, MonitorActions.NONE); }

    public MonitorUi(Terminal terminal, Renderer renderer, MonitorActions actions) throws IOException {
        this.terminal = terminal;
        this.actions = actions;
        this.size = terminal.getTerminalSize();
        terminal.addResizeListener((t, newSize) -> pendingSize = newSize);
        this.renderer = renderer;
    }

    public ViewState view() { return view; }

    public MonitorFrame frame() { return frame; }

    /** The device whose maps the fetcher should read (the detail view's), read by the fetcher thread. */
    public OptionalInt focus() {
        int f = focus;
        return f < 0 ? OptionalInt.empty() : OptionalInt.of(f);
    }

    /**
     * The device whose chart series the fetcher should copy: the detail view's, else the
     * selected row's (its charts are drawn under the table).
     */
    public OptionalInt chartFocus() {
        int f = focus;
        if (f >= 0) return OptionalInt.of(f);
        int s = view.selectedId;
        return s < 0 ? OptionalInt.empty() : OptionalInt.of(s);
    }

    /** Takes a new frame (GUI thread). */
    public void show(MonitorFrame f) {
        frame = f;
        fixSelection();
    }

    /** Keeps the selection on a visible device (the first one when the selected one is gone). */
    private void fixSelection() {
        if (frame == null) return;
        List<DeviceRow> rows = view.order.apply(frame.rows());
        if (!rows.isEmpty()) view.selectedId = rows.get(Renderer.selectedIndex(rows, view)).id();
    }

    /** Redraws everything if the terminal was resized; returns true if it was. */
    public boolean checkResize() {
        TerminalSize s = pendingSize;
        if (s == null) return false;
        pendingSize = null;
        size = s;
        renderer.invalidate();
        try {
            terminal.clearScreen();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot draw on the terminal", e);
        }
        redraw();
        return true;
    }

    /** Applies the results of finished actions; true if there were any (GUI thread). */
    public boolean applyResults() {
        boolean any = false;
        for (var r = results.poll(); r != null; r = results.poll()) {
            r.accept(view);
            any = true;
        }
        return any;
    }

    /** Runs an action on a virtual thread; its result (or error) reaches the view through {@link #applyResults()}. */
    private void act(String what, java.util.function.Supplier<java.util.function.Consumer<ViewState>> action) {
        status(view, what + "...");
        Thread.ofVirtual().name("top-action").start(() -> {
            java.util.function.Consumer<ViewState> r;
            try {
                r = action.get();
            } catch (RuntimeException e) {
                String m = e.getMessage() == null ? e.toString() : e.getMessage();
                r = v -> status(v, what + ": " + m);
            }
            results.add(r);
        });
    }

    static void status(ViewState v, String s) {
        v.status = s;
        v.statusNanos = System.nanoTime();
    }

    /** The device the action keys act on: the detail view's, else the selected row's. */
    private int actionTarget() { return view.mode == ViewState.Mode.DETAIL ? view.detailId : view.selectedId; }

    /** a, p, l, z, c: true if {@code c} was one of them. */
    private boolean actionKey(char c) {
        int id = actionTarget();
        switch (c) {
            case 'a' -> {
                if (id >= 0) act("attach/detach on ublkb" + id, () -> { String m = actions.toggleProgram(id); return v -> status(v, m); });
            }
            case 'p' -> {
                if (id >= 0) act("load on ublkb" + id, () -> { String m = actions.toggleLoad(id); return v -> status(v, m); });
            }
            case 'l' -> {
                if (id >= 0) act("listing of ublkb" + id, () -> {
                    List<String> lines = actions.listing(id);
                    return v -> {
                        v.listingTitle = lines.isEmpty() ? "listing" : lines.getFirst();
                        v.listing = lines.isEmpty() ? List.of() : lines.subList(1, lines.size());
                        v.listingScroll = 0;
                        v.status = null;
                    };
                });
            }
            case 'z' -> {
                view.showZero = !view.showZero;
                status(view, view.showZero ? "maps: zero entries shown" : "maps: zero entries folded");
            }
            case 'c' -> {
                view.perCpu = !view.perCpu;
                status(view, view.perCpu ? "maps: one line per cpu" : "maps: per-cpu values summed");
            }
            default -> { return false; }
        }
        return true;
    }

    private void listingKey(KeyStroke k, Character c) {
        switch (k.getKeyType()) {
            case Escape, Backspace, ArrowLeft -> view.listing = null;
            case ArrowDown -> view.listingScroll++;
            case ArrowUp -> view.listingScroll = Math.max(0, view.listingScroll - 1);
            case PageDown -> view.listingScroll += 20;
            case PageUp -> view.listingScroll = Math.max(0, view.listingScroll - 20);
            case Home -> view.listingScroll = 0;
            case Character -> {
                if (c == 'j') view.listingScroll++;
                else if (c == 'k') view.listingScroll = Math.max(0, view.listingScroll - 1);
                else if (c == 'l') view.listing = null;
            }
            default -> { }
        }
    }

    /** Draws the current frame (only what changed since the last draw). */
    public void redraw() {
        try {
            renderer.draw(terminal, size, view, frame);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot draw on the terminal", e);
        }
    }

    /**
     * Handles one key. Returns false when the user asked to quit.
     */
    public boolean handle(KeyStroke k) {
        if (k == null) return true;
        if (k.getKeyType() == KeyType.EOF) return false;
        if (k.isCtrlDown() && k.getCharacter() != null && k.getCharacter() == 'c') return false;
        if (view.help) {
            view.help = false;
            return true;
        }
        if (view.filterDraft != null) {
            filterKey(k);
            return true;
        }
        Character c = k.getKeyType() == KeyType.Character ? k.getCharacter() : null;
        if (c != null && (c == 'q' || c == 'Q')) return false;
        if (c != null && c == '?') {
            view.help = true;
            return true;
        }
        if (view.listing != null) {
            listingKey(k, c);
            return true;
        }
        if (c != null && actionKey(c)) return true;
        if (view.mode == ViewState.Mode.DETAIL) detailKey(k, c);
        else tableKey(k, c);
        if (view.mode == ViewState.Mode.TABLE) fixSelection();
        return true;
    }

    private void tableKey(KeyStroke k, Character c) {
        List<DeviceRow> rows = frame == null ? List.of() : view.order.apply(frame.rows());
        int sel = Renderer.selectedIndex(rows, view);
        switch (k.getKeyType()) {
            case ArrowDown -> select(rows, sel + 1);
            case ArrowUp -> select(rows, sel - 1);
            case PageDown -> select(rows, sel + 10);
            case PageUp -> select(rows, sel - 10);
            case Home -> select(rows, 0);
            case End -> select(rows, rows.size() - 1);
            case Enter -> {
                if (!rows.isEmpty()) openDetail(rows.get(Math.clamp(sel, 0, rows.size() - 1)).id());
            }
            case Escape -> view.order = view.order.filtered("");
            case Character -> {
                switch (c) {
                    case 'j' -> select(rows, sel + 1);
                    case 'k' -> select(rows, sel - 1);
                    case 's' -> view.order = view.order.nextColumn();
                    case 'r' -> view.order = view.order.reversed();
                    case 'f', '/' -> view.filterDraft = new StringBuilder(view.order.filter());
                    default -> { }
                }
            }
            default -> { }
        }
    }

    private void select(List<DeviceRow> rows, int index) {
        if (rows.isEmpty()) return;
        view.selectedId = rows.get(Math.clamp(index, 0, rows.size() - 1)).id();
    }

    private void openDetail(int id) {
        view.mode = ViewState.Mode.DETAIL;
        view.detailId = id;
        view.mapScroll = 0;
        focus = id;
    }

    private void detailKey(KeyStroke k, Character c) {
        switch (k.getKeyType()) {
            case Escape, Backspace, ArrowLeft -> {
                view.mode = ViewState.Mode.TABLE;
                view.selectedId = view.detailId;
                focus = -1;
                fixSelection();
            }
            case ArrowDown -> view.mapScroll++;
            case ArrowUp -> view.mapScroll = Math.max(0, view.mapScroll - 1);
            case PageDown -> view.mapScroll += 10;
            case PageUp -> view.mapScroll = Math.max(0, view.mapScroll - 10);
            case Home -> view.mapScroll = 0;
            case Character -> {
                if (c == 'j') view.mapScroll++;
                else if (c == 'k') view.mapScroll = Math.max(0, view.mapScroll - 1);
            }
            default -> { }
        }
    }

    private void filterKey(KeyStroke k) {
        switch (k.getKeyType()) {
            case Enter -> {
                view.order = view.order.filtered(view.filterDraft.toString());
                view.filterDraft = null;
            }
            case Escape -> {
                view.order = view.order.filtered("");
                view.filterDraft = null;
            }
            case Backspace -> {
                if (!view.filterDraft.isEmpty()) view.filterDraft.setLength(view.filterDraft.length() - 1);
            }
            case Character -> {
                if (view.filterDraft.length() < 60) view.filterDraft.append(k.getCharacter());
            }
            default -> { }
        }
    }
}
