package dev.ublkctl.tui.ui;

import com.googlecode.lanterna.TerminalSize;
import com.googlecode.lanterna.input.KeyStroke;
import com.googlecode.lanterna.input.KeyType;
import com.googlecode.lanterna.terminal.virtual.DefaultVirtualTerminal;
import dev.ublkctl.tui.metrics.RateCalculator;
import dev.ublkctl.tui.model.DeviceSnapshot;
import dev.ublkctl.tui.model.MonitorSnapshot;
import dev.ublkctl.tui.model.SourceState;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.ublkctl.tui.testing.Fixtures.device;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 32 devices × 32 queues at 10 refreshes a second (snapshots 0.1 s apart on the monitor's clock),
 * through the calculator and the screen, at 200×60 and 80×24, in the table and the detail view.
 * The time per refresh is printed, not asserted (scripts/top-cost measures the budget).
 */
class FleetScreenTest {
    static final int DEVICES = 32, QUEUES = 32, FRAMES = Integer.getInteger("fleet.frames", 100);
    static final long TICK = 100_000_000L;

    private static MonitorSnapshot snap(int i) {
        List<DeviceSnapshot> ds = new ArrayList<>();
        for (int d = 0; d < DEVICES; d++) ds.add(device(d, "null", "null", QUEUES, (long) i * 100 * (d + 1), 50 + d));
        return new MonitorSnapshot(i * TICK, SourceState.CONNECTED, null, ds);
    }

    @Test
    void thirtyTwoDevicesOfThirtyTwoQueuesAtTenHertz() throws Exception {
        var vt = new DefaultVirtualTerminal(new TerminalSize(200, 60));
        vt.enterPrivateMode();
        var ui = new MonitorUi(vt, new Renderer("fake", 0.1));
        var calc = new RateCalculator(300, 3008);
        long t0 = System.nanoTime(), tLast = 0, calcNanos = 0, drawNanos = 0;
        for (int i = 0; i < FRAMES; i++) {
            if (i == FRAMES - 20) tLast = System.nanoTime();
            MonitorSnapshot s = snap(i);
            long a = System.nanoTime();
            var f = calc.update(s, ui.chartFocus());
            long b = System.nanoTime();
            ui.show(f);
            ui.redraw();
            long c = System.nanoTime();
            if (i >= FRAMES - 20) { calcNanos += b - a; drawNanos += c - b; }
            if (i == FRAMES / 2) {   // halfway: the detail view of the last device, then back
                ui.handle(new KeyStroke(KeyType.End));
                ui.handle(new KeyStroke(KeyType.Enter));
            }
            if (i == FRAMES * 3 / 4) vt.setTerminalSize(new TerminalSize(80, 24));
            ui.checkResize();
        }
        double msPerFrame = (System.nanoTime() - t0) / 1e6 / FRAMES;
        System.out.printf("FleetScreenTest: %d devices x %d queues: %.2f ms per refresh over %d (calculator + screen, "
                + "200x60 then 80x24), %.2f ms over the last 20 (calculator %.2f, screen %.2f)%n", DEVICES, QUEUES, msPerFrame, FRAMES,
                (System.nanoTime() - tLast) / 1e6 / 20, calcNanos / 1e6 / 20, drawNanos / 1e6 / 20);

        String t = DaemonScreenTest.text(vt);
        assertTrue(t.contains("ublkb31") && t.contains("32 queues x 128"), t);
        assertTrue(t.contains("more queues"), "80x24 shows a few queues and says how many more: " + t);
        assertTrue(t.contains("MAPS"), t);
        assertEquals(QUEUES, ui.frame().queueIopsOf(31).size(), "a series per queue of the device on screen");
        assertEquals(FRAMES / 2 - 1, ui.frame().queueIopsOf(31).getFirst().size(), "sampled since the view opened");

        ui.handle(new KeyStroke(KeyType.Escape));
        vt.setTerminalSize(new TerminalSize(200, 60));
        ui.checkResize();
        ui.show(calc.update(snap(FRAMES), ui.chartFocus()));
        ui.redraw();
        t = DaemonScreenTest.text(vt);
        assertTrue(t.contains("32 devices"), t);
        assertTrue(t.contains("ublkb31 IOPS") && t.contains("ublkb31 MB/s"), "the selected device's chart grid: " + t);
        assertEquals(1, ui.frame().series().size(), "32 devices: series only for the one on screen");
        vt.exitPrivateMode();
    }
}
