package dev.ublkctl.tui.ui;

import com.googlecode.lanterna.TerminalSize;
import com.googlecode.lanterna.input.KeyStroke;
import com.googlecode.lanterna.input.KeyType;
import com.googlecode.lanterna.terminal.virtual.DefaultVirtualTerminal;
import dev.ublkctl.daemon.AddRequest;
import dev.ublkctl.daemon.BenchRequest;
import dev.ublkctl.daemon.Daemon;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.RunDir;
import dev.ublkctl.target.TargetType;
import dev.ublkctl.tui.metrics.DeviceRow;
import dev.ublkctl.tui.metrics.RateCalculator;
import dev.ublkctl.tui.source.ClientActions;
import dev.ublkctl.tui.source.ClientCalls;
import dev.ublkctl.tui.source.DaemonSource;
import dev.ublkctl.ublk.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The monitor's screen over a real daemon (in this JVM, emulated devices running the bundled null
 * program, I/O from the daemon's bench), drawn on Lanterna's virtual terminal: 80×24, a resize to
 * 200×50 and back, the detail view with both queues and the maps pane, and the action keys
 * (program listing, detach, attach) doing their RPCs.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DaemonScreenTest {

    @Test
    void realDaemonAcrossSizesDetailMapsListingAndDetachAttach(@TempDir Path tmp) throws Exception {
        RunDir dir = new RunDir(tmp.resolve("run"), true);
        Daemon d = Daemon.withEngine(dir, m -> { });
        assertTrue(d.start());
        try (DaemonSource src = ClientCalls.source(dir)) {
            d.add(new AddRequest(AddRequest.AUTO_ID, TargetType.NULL, 2, 64, 1L << 30, 512, List.of(), 0, "null",
                    "null_redirect_ops", Backend.EMULATED, false, 0));
            d.add(new AddRequest(AddRequest.AUTO_ID, TargetType.NULL, 2, 64, 1L << 30, 512, List.of(), 0, "null",
                    "null_split_ops", Backend.EMULATED, false, 0));
            try (DaemonClient c = DaemonClient.connect(dir)) {
                // device 0: tags divisible by 4 go to the server
                c.updateMap(0, "null_cfg", "0", "hex:00 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00");
            }
            var vt = new DefaultVirtualTerminal(new TerminalSize(80, 24));
            vt.enterPrivateMode();
            var ui = new MonitorUi(vt, new Renderer(src.describe(), 0.5), new ClientActions(dir));
            var calc = new RateCalculator(300, 1000);
            Runnable refresh = () -> {
                ui.show(calc.update(src.poll(ui.focus()), ui.chartFocus()));
                ui.redraw();
            };
            refresh.run();
            bench(dir, 0);
            bench(dir, 1);
            refresh.run();

            String t = text(vt);
            assertTrue(t.contains("2 devices") && t.contains("daemon ok"), t);
            assertTrue(t.contains("null_redirect_ops") || t.contains("null_redir"), t);
            assertTrue(t.contains("ublkb0 IOPS"), "the selected device's charts fit at 80x24: " + t);
            assertTrue(t.contains("┤") && t.contains("now"), "y scale and time marks: " + t);
            DeviceRow r0 = ui.frame().row(0).orElseThrow(), r1 = ui.frame().row(1).orElseThrow();
            assertTrue(r0.total().redirectShare() > 0 && r0.total().redirectShare() < 1, "both paths on device 0: " + r0.total());
            assertTrue(r1.total().splitPerSec() > 0, "device 1 splits: " + r1.total());
            assertTrue(r0.queues().isEmpty(), "the table's poll asks for totals only");

            vt.setTerminalSize(new TerminalSize(200, 50));
            assertTrue(ui.checkResize());
            t = text(vt);
            assertTrue(t.contains("ublkb0 IOPS") && t.contains("ublkb1 IOPS"), "two devices, a band of charts each: " + t);
            assertTrue(t.contains("ublkb1 P99 (interval)"), "wide: P99 beside IOPS and the share: " + t);

            key(ui, KeyType.Enter);
            refresh.run();   // the fetcher reads the maps and queues of the device in focus
            bench(dir, 0);
            refresh.run();
            for (var q : ui.frame().row(0).orElseThrow().queues()) assertTrue(q.iops() > 0, "the bench loads every queue: " + q);
            assertTrue(ui.frame().row(1).orElseThrow().queues().isEmpty(), "queues only of the device in detail");
            t = text(vt);
            assertTrue(t.contains(" q0 ") && t.contains(" q1 "), t);
            assertTrue(t.contains("MAPS") && t.contains("▸ qstats"), t);
            assertTrue(t.contains("zero entries folded"), "qstats has 64 slots, two queues used: " + t);
            assertTrue(t.contains("program ns/run"), "the 3-row chart grid at 200x50: " + t);

            key(ui, 'l');
            waitFor(ui, () -> ui.view().listing() != null);
            ui.redraw();
            t = text(vt);
            assertTrue(t.contains("null_redirect_ops") && t.contains("queue_io_cmd"), "prog dump --source: " + t);
            key(ui, KeyType.Escape);
            assertNull(ui.view().listing());

            key(ui, 'a');
            waitFor(ui, () -> ui.view().status != null && ui.view().status.contains("detached"));
            refresh.run();
            assertNull(ui.frame().row(0).orElseThrow().device().program(), "detached over RPC");
            assertTrue(text(vt).contains("no program attached"), text(vt));
            key(ui, 'a');
            waitFor(ui, () -> ui.view().status != null && ui.view().status.contains("attached null_redirect_ops"));
            refresh.run();
            assertEquals("null_redirect_ops", ui.frame().row(0).orElseThrow().device().program(), "the same program again");

            key(ui, 'p');
            waitFor(ui, () -> ui.view().status != null && ui.view().status.contains("no load runs from this monitor"));

            vt.setTerminalSize(new TerminalSize(80, 24));
            assertTrue(ui.checkResize());
            t = text(vt);
            assertTrue(t.contains("ublkb0") && t.contains("QUEUE") && t.contains("MAPS"), "detail at 80x24: " + t);
            vt.exitPrivateMode();
        } finally {
            d.close();
        }
    }

    private static void bench(RunDir dir, int id) {
        try (DaemonClient c = DaemonClient.connect(dir)) {
            var b = c.bench(id, new BenchRequest("randrw", 16384, 8, 2, 0.4), Duration.ofSeconds(60), null);
            assertTrue(b.ios() > 0, "bench ran: " + b);
        }
    }

    private static void key(MonitorUi ui, KeyType k) {
        assertTrue(ui.handle(new KeyStroke(k)));
        ui.redraw();
    }

    private static void key(MonitorUi ui, char c) {
        assertTrue(ui.handle(new KeyStroke(c, false, false)));
        ui.redraw();
    }

    /** Applies action results until {@code done} (the RPC runs on its own thread). */
    private static void waitFor(MonitorUi ui, BooleanSupplier done) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!done.getAsBoolean()) {
            ui.applyResults();
            if (done.getAsBoolean()) break;
            assertFalse(System.nanoTime() > end, "the action did not finish; status: " + ui.view().status);
            Thread.sleep(20);
        }
        assertNotNull(ui.view());
    }

    static String text(DefaultVirtualTerminal vt) {
        TerminalSize size = vt.getTerminalSize();
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < size.getRows(); r++) {
            for (int c = 0; c < size.getColumns(); c++) sb.append(vt.getCharacter(c, r).getCharacterString());
            sb.append('\n');
        }
        return sb.toString();
    }
}
