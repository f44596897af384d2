package dev.ublkctl.tui.ui;

import com.googlecode.lanterna.input.KeyStroke;
import com.googlecode.lanterna.terminal.Terminal;
import dev.ublkctl.tui.metrics.MonitorFrame;
import dev.ublkctl.tui.metrics.RateCalculator;
import dev.ublkctl.tui.model.MonitorSnapshot;
import dev.ublkctl.tui.model.SourceState;
import dev.ublkctl.tui.source.MonitorActions;
import dev.ublkctl.tui.source.MonitorSource;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs the monitor: one fetcher thread polls the source every interval and computes frames;
 * the calling thread is the only one that touches the screen (input, drawing, resize).
 */
public final class Monitor {

    /** Chart history: the last five minutes. */
    public static final double WINDOW_SEC = 300;
    /** How often the GUI thread looks at the keyboard while it waits for a frame. */
    private static final long INPUT_POLL_MS = 40;

    private final MonitorSource source;
    private final Duration interval;
    private MonitorActions actions = MonitorActions.NONE;

    /** What the action keys (attach/detach, pause load, listing) do. */
    public Monitor actions(MonitorActions a) {
        this.actions = a;
        return this;
    }

    public Monitor(MonitorSource source, Duration interval) {
        if (interval.isNegative() || interval.isZero()) throw new IllegalArgumentException("refresh interval must be positive");
        this.source = source;
        this.interval = interval;
    }

    public static RateCalculator calculator(Duration interval) {
        int cap = (int) Math.min(20_000, Math.max(64, WINDOW_SEC * 1e9 / interval.toNanos() + 8));
        return new RateCalculator(WINDOW_SEC, cap);
    }

    /**
     * Runs until the user quits. The terminal must be in private mode with the cursor hidden;
     * the caller restores it.
     */
    public void run(Terminal terminal) throws IOException {
        MonitorUi ui = new MonitorUi(terminal, new Renderer(source.describe(), interval.toNanos() / 1e9), actions);
        AtomicReference<MonitorFrame> latest = new AtomicReference<>();
        Object wake = new Object();
        // Key presses that change what to fetch (Enter on a device) wake the fetcher early.
        SynchronousQueue<Boolean> fetchNow = new SynchronousQueue<>();
        Thread fetcher = Thread.ofPlatform().name("top-fetch").daemon(true).unstarted(() -> {
            RateCalculator calc = calculator(interval);
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    long t0 = System.nanoTime();
                    MonitorSnapshot snap;
                    var focus = ui.focus();
                    var charts = ui.chartFocus();
                    try {
                        snap = source.poll(focus);
                    } catch (RuntimeException e) {
                        snap = new MonitorSnapshot(System.nanoTime(), SourceState.LOST, "monitor source failed: " + e, List.of());
                    }
                    latest.set(calc.update(snap, charts));
                    synchronized (wake) { wake.notifyAll(); }
                    long left = interval.toNanos() - (System.nanoTime() - t0);
                    if (left > 0) fetchNow.poll(left, TimeUnit.NANOSECONDS);
                }
            } catch (InterruptedException ignored) {
                // quitting
            }
        });
        fetcher.start();
        try {
            ui.redraw();
            MonitorFrame shown = null;
            int lastFocus = -1;
            while (true) {
                KeyStroke k = terminal.pollInput();
                if (k != null) {
                    if (!ui.handle(k)) return;
                    int f = ui.chartFocus().orElse(-1) * 2 + (ui.focus().isPresent() ? 1 : 0);
                    if (f != lastFocus) { // new device on screen: fetch its series (and maps) now
                        lastFocus = f;
                        fetchNow.offer(Boolean.TRUE);
                    }
                    ui.redraw();
                    continue;
                }
                if (ui.checkResize()) continue;
                if (ui.applyResults()) {
                    ui.redraw();
                    continue;
                }
                MonitorFrame f = latest.get();
                if (f != shown) {
                    shown = f;
                    ui.show(f);
                    ui.redraw();
                    continue;
                }
                synchronized (wake) {
                    if (latest.get() == shown) {
                        try {
                            wake.wait(INPUT_POLL_MS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        }
                    }
                }
            }
        } finally {
            fetcher.interrupt();
        }
    }
}
