package dev.ublkctl.tui.ui;

import com.googlecode.lanterna.TerminalSize;
import com.googlecode.lanterna.input.KeyStroke;
import com.googlecode.lanterna.input.KeyType;
import com.googlecode.lanterna.terminal.virtual.DefaultVirtualTerminal;
import dev.ublkctl.tui.metrics.Column;
import dev.ublkctl.tui.metrics.RateCalculator;
import dev.ublkctl.tui.model.MapEntry;
import dev.ublkctl.tui.model.MapSnapshot;
import dev.ublkctl.tui.model.MonitorSnapshot;
import dev.ublkctl.tui.model.SourceState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.ublkctl.tui.testing.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** The monitor drawn headless on Lanterna's virtual terminal, driven by keys. */
class MonitorUiTest {

    private DefaultVirtualTerminal vt;
    private MonitorUi ui;
    private RateCalculator calc;

    @BeforeEach
    void setUp() throws Exception {
        vt = new DefaultVirtualTerminal(new TerminalSize(130, 36));
        vt.enterPrivateMode();
        ui = new MonitorUi(vt, new Renderer("fake", 1.0));
        calc = new RateCalculator(300, 1000);
    }

    @AfterEach
    void tearDown() { vt.exitPrivateMode(); }

    /** Feeds snapshots through the calculator and shows the last frame. */
    private void feed(MonitorSnapshot... snaps) {
        for (MonitorSnapshot s : snaps) ui.show(calc.update(s));
        ui.redraw();
    }

    /** Two devices with rates: 1 = null (2 queues, 2000 IOPS, all BPF), 2 = loop (3000 IOPS, half redirected). */
    private void twoDevices() {
        feed(snap(0, device(1, "null", "null", 2, 0, 100), device(2, "loop", "loop", 1, 0, 50)),
                snap(SEC, device(1, "null", "null", 2, 1000, 100), device(2, "loop", "loop", 1, 3000, 50)));
    }

    private List<String> lines() {
        TerminalSize size = vt.getTerminalSize();
        List<String> out = new ArrayList<>();
        for (int r = 0; r < size.getRows(); r++) {
            StringBuilder sb = new StringBuilder();
            for (int c = 0; c < size.getColumns(); c++) sb.append(vt.getCharacter(c, r).getCharacterString());
            out.add(sb.toString());
        }
        return out;
    }

    private String text() { return String.join("\n", lines()); }

    /** The table line of a device id (first cell), or null. */
    private String rowOf(int id) {
        for (String l : lines().subList(3, lines().size())) {
            String t = l.strip();
            if (t.startsWith(id + " ")) return l;
        }
        return null;
    }

    private List<Integer> tableIds() {
        List<Integer> ids = new ArrayList<>();
        for (String l : lines().subList(3, lines().size() - 1)) {
            String t = l.strip();
            String first = t.split("\\s+")[0];
            if (first.matches("\\d+")) ids.add(Integer.parseInt(first));
        }
        return ids;
    }

    private void key(char c) { assertTrue(ui.handle(new KeyStroke(c, false, false))); ui.redraw(); }

    private void key(KeyType t) { assertTrue(ui.handle(new KeyStroke(t))); ui.redraw(); }

    @Test
    void tableShowsEveryColumnForEachDevice() {
        twoDevices();
        String header = lines().get(2);
        for (Column c : Column.values()) assertTrue(header.contains(c.header()), "header has " + c.header() + ": " + header);
        String r1 = rowOf(1), r2 = rowOf(2);
        assertNotNull(r1, text());
        assertTrue(r1.matches(".*\\bnull\\s+emulated\\s+live\\s+2x128\\s+1G\\s+null\\s+2\\.00k\\s+8\\.2\\s+6\\s+100%\\s+0%\\s+200\\s+0\\s+19\\.9us.*"), r1);
        assertTrue(r2.matches(".*\\bloop\\s+emulated\\s+live\\s+1x128\\s+1G\\s+loop\\s+3\\.00k\\s+12\\.3\\s+3\\s+50%\\s+50%\\s+300\\s+0\\s+19\\.9us.*"), r2);
        assertTrue(lines().get(1).contains("total 5.00k IOPS   20.5 MB/s   9 in flight   handled in BPF 70%, redirected 30%   errors 0"),
                lines().get(1));
        assertTrue(lines().getFirst().contains("2 devices"));
        assertTrue(lines().getFirst().contains("daemon ok"));
        assertTrue(lines().getLast().contains("q quit"), lines().getLast());
        assertTrue(lines().getLast().contains("? help"));
    }

    @Test
    void selectedDeviceChartsAreDrawnUnderTheTable() {
        twoDevices();
        String t = text();
        // two devices: a band of braille charts each, with a y scale and time marks
        assertTrue(t.contains("ublkb1 IOPS 2.00k  (max 2.00k)"), t);
        assertTrue(t.contains("ublkb1 in BPF 100% / redirected 0%"), t);
        assertTrue(t.contains("ublkb2 IOPS 3.00k  (max 3.00k)"), t);
        assertTrue(t.contains("ublkb2 in BPF 50% / redirected 50%"), t);
        assertTrue(t.contains("2.00k┤") && t.contains("100%┤") && t.contains("0┤"), "y-axis scales: " + t);
        assertTrue(t.contains("now"), "time marks");
        assertTrue(t.chars().anyMatch(ch -> ch > 0x2800 && ch <= 0x28ff), "braille dots");
        assertEquals(1, ui.chartFocus().orElseThrow());
        key('j');
        assertEquals(2, ui.chartFocus().orElseThrow());
        assertTrue(ui.focus().isEmpty(), "no map reads for the table");
    }

    @Test
    void sortKeyCyclesColumnsAndReverses() {
        twoDevices();
        assertEquals(List.of(1, 2), tableIds());
        while (ui.view().order().column() != Column.IOPS) key('s');
        assertTrue(lines().get(2).contains("IOPS▼"), lines().get(2));
        assertEquals(List.of(2, 1), tableIds(), "busiest first");
        key('r');
        assertTrue(lines().get(2).contains("IOPS▲"));
        assertEquals(List.of(1, 2), tableIds());
    }

    @Test
    void filterKeyNarrowsTheTable() {
        twoDevices();
        key('f');
        for (char c : "lo".toCharArray()) key(c);
        assertTrue(lines().getLast().contains("filter: lo_"), lines().getLast());
        key('o');
        key('p');
        key(KeyType.Enter);
        assertEquals(List.of(2), tableIds());
        assertTrue(lines().getFirst().contains("1 of 2 devices"), lines().getFirst());
        assertTrue(lines().getFirst().contains("filter: loop"));
        key('f');
        for (char c : "zzz".toCharArray()) key(c);
        key(KeyType.Enter);
        assertTrue(text().contains("No device matches the filter 'loopzzz'"), text());
        key('f');
        key(KeyType.Escape);
        assertEquals(List.of(1, 2), tableIds());
    }

    @Test
    void selectionMovesAndEnterOpensTheDeviceWithQueuesChartsAndProgram() {
        twoDevices();
        assertEquals(1, ui.view().selectedId());
        key('j');
        assertEquals(2, ui.view().selectedId());
        key(KeyType.ArrowUp);
        assertEquals(1, ui.view().selectedId());
        key(KeyType.Enter);
        assertEquals(ViewState.Mode.DETAIL, ui.view().mode());
        assertEquals(1, ui.focus().orElseThrow(), "the fetcher is asked for this device's maps");
        String t = text();
        assertTrue(lines().getFirst().contains("ublkb1   null on emulated   live   2 queues x 128   1G   program null"), lines().getFirst());
        assertTrue(t.matches("(?s).*q0\\s+1\\.00k\\s+4\\.1\\s+3\\s+100%\\s+0%\\s+100\\s+0\\s+19\\.9us\\s+1\\.00k\\s+500ns.*"), t);
        assertTrue(t.contains(" q1 "));
        assertTrue(t.matches("(?s).*all\\s+2\\.00k.*"));
        assertTrue(t.contains("IOPS 2.00k  (max 2.00k)"), t);
        assertTrue(t.contains("⢸"), "the IOPS chart has a full dot column for the one sample at max");
        assertTrue(t.contains("in BPF 100% / redirected 0%"), t);
        assertTrue(t.contains("program null: 2.00k runs, 2.00k runs/s, avg 500ns/run"), t);
        assertTrue(t.contains("MAPS"));
        key(KeyType.Escape);
        assertEquals(ViewState.Mode.TABLE, ui.view().mode());
        assertTrue(ui.focus().isEmpty());
    }

    @Test
    void mapPaneShowsDecodedEntriesAndScrolls() {
        List<MapEntry> entries = new ArrayList<>();
        for (int i = 0; i < 40; i++) entries.add(new MapEntry("{queue=" + i + "}", "{ios=" + (i * 10) + ", bytes=" + (i * 4096) + "}"));
        var maps = List.of(new MapSnapshot("queue_stats", "array", 64, entries, null),
                new MapSnapshot("fd_map", "array", 1, List.of(new MapEntry("0", "7")), null));
        var d0 = device(5, "stripe", "stripe", 1, 0, 70);
        var d1 = withMaps(device(5, "stripe", "stripe", 1, 100, 70), maps.toArray(new MapSnapshot[0]));
        feed(snap(0, d0), snap(SEC, d1));
        key(KeyType.Enter);
        String t = text();
        assertTrue(t.contains("▸ queue_stats  array  40/64 entries"), t);
        assertFalse(t.contains("{queue=0} → {ios=0, bytes=0}"), "an all-zero entry is folded");
        assertTrue(t.contains("{queue=1} → {ios=10, bytes=4096}"), t);
        assertFalse(t.contains("{queue=39}"), "needs scrolling");
        assertTrue(t.matches("(?s).*lines 1-\\d+ of 43.*"), t);
        key(KeyType.PageDown);
        key(KeyType.PageDown);
        key(KeyType.PageDown);
        key(KeyType.PageDown);
        key(KeyType.PageDown);
        t = text();
        assertTrue(t.contains("{queue=39} → {ios=390, bytes=159744}"), t);
        assertTrue(t.contains("▸ fd_map  array  1/1 entries"));
        assertTrue(t.contains("0 → 7"));
        assertFalse(t.contains("{queue=0} →"));
        key('k');
        key(KeyType.Home);
        assertFalse(text().contains("{queue=0} →"), "folded");
        assertTrue(text().contains("… 1 zero entry folded (z shows them)"), text());
        key('z');
        assertTrue(text().contains("{queue=0} → {ios=0, bytes=0}"), "z shows the zero entries");
        // Live refresh: the next frame's values replace the old ones.
        var d2 = withMaps(device(5, "stripe", "stripe", 1, 200, 70),
                new MapSnapshot("queue_stats", "array", 64, List.of(new MapEntry("{queue=0}", "{ios=12345, bytes=1}")), null));
        feed(snap(2 * SEC, d2));
        assertTrue(text().contains("{queue=0} → {ios=12345, bytes=1}"));
    }

    @Test
    void resizeRedrawsAndDropsColumnsThatNoLongerFit() throws Exception {
        twoDevices();
        vt.setTerminalSize(new TerminalSize(80, 20));
        assertTrue(ui.checkResize());
        List<String> l = lines();
        assertEquals(80, l.getFirst().length());
        assertFalse(l.get(2).contains("BACKEND"), l.get(2));
        assertTrue(l.get(2).contains("IOPS"));
        assertTrue(l.get(2).contains("BPF%"));
        assertNotNull(rowOf(2));
        assertTrue(l.get(19).contains("q quit"), "footer on the new last row");
        vt.setTerminalSize(new TerminalSize(140, 40));
        assertTrue(ui.checkResize());
        assertTrue(lines().get(2).contains("BACKEND"));
        assertFalse(ui.checkResize(), "nothing to do without a resize");
    }

    @Test
    void emptyStatesSayWhatToDo() {
        feed(down(0, SourceState.NO_DAEMON, "no daemon running (no socket at /run/ublkctl/ublkctl.sock)"));
        String t = text();
        assertTrue(t.contains("No ublkctl daemon is running"), t);
        assertTrue(t.contains("ublkctl demo"));
        assertTrue(t.contains("no socket at /run/ublkctl/ublkctl.sock"));
        assertTrue(lines().getFirst().contains("no daemon"));
        feed(snap(SEC));
        assertTrue(text().contains("No devices. Create one with 'ublkctl add'"), text());
        assertTrue(ui.handle(new KeyStroke(KeyType.Enter)), "Enter on nothing is harmless");
        assertEquals(ViewState.Mode.TABLE, ui.view().mode());
    }

    @Test
    void dyingDaemonIsShownAndDevicesKeptAsLost() {
        twoDevices();
        key(KeyType.Enter);
        feed(down(2 * SEC, SourceState.LOST, "lost the daemon during device.list: Broken pipe"));
        String t = text();
        assertTrue(t.contains("its daemon stopped answering; last known values"), t);
        assertTrue(lines().getFirst().contains("lost"));
        key(KeyType.Escape);
        assertTrue(lines().getFirst().contains("DAEMON LOST"), lines().getFirst());
        assertTrue(lines().get(1).contains("daemon stopped answering: lost the daemon during device.list: Broken pipe"), lines().get(1));
        assertTrue(rowOf(1).contains(" lost "), rowOf(1));
        assertTrue(rowOf(2).contains(" lost "));
        assertTrue(rowOf(1).matches(".*\\s-\\s+-\\s+0\\s+-\\s+-\\s+-.*"), "no rates for a lost device: " + rowOf(1));
    }

    @Test
    void goneDeviceIsMarkedAndItsDetailViewSaysSo() {
        twoDevices();
        key(KeyType.Enter);
        feed(snap(2 * SEC, device(2, "loop", "loop", 1, 6000, 50)));
        assertTrue(text().contains("this device was deleted; last known values"), text());
        feed(snap(20 * SEC, device(2, "loop", "loop", 1, 9000, 50)));
        assertTrue(text().contains("Device 1 is gone"), text());
        key(KeyType.Escape);
        assertEquals(List.of(2), tableIds());
        assertEquals(2, ui.view().selectedId(), "the selection moves to a device that exists");
    }

    @Test
    void helpOpensAndAnyKeyClosesItAndQQuits() {
        twoDevices();
        key('?');
        assertTrue(text().contains("select a device"), text());
        assertTrue(text().contains("BPF% = I/O parts the program completed in BPF"));
        key('x');
        assertFalse(text().contains("select a device"));
        assertFalse(ui.handle(new KeyStroke('q', false, false)));
        assertFalse(ui.handle(new KeyStroke('c', true, false)), "Ctrl-C quits too");
        assertFalse(ui.handle(new KeyStroke(KeyType.EOF)));
    }
}
