package dev.ublkctl.tui.ui;

import dev.ublkctl.tui.model.DeviceSnapshot;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TraceLinesTest {
    @Test
    void theMapPaneEndsWithTheProgramsLastPrintkLines() {
        DeviceSnapshot d = new DeviceSnapshot(3, "loop", "emulated", "live", 1, 8, 1 << 20, "kublk_loop_ops",
                List.of(), List.of(), null, "jit", List.of("a: one", "a: two"));
        List<String> lines = Renderer.traceLines(d);
        assertEquals(List.of("▸ bpf_printk, last 2 (ublkctl prog trace -n 3 follows)", "    a: one", "    a: two"), lines);
        assertEquals(List.of(), Renderer.traceLines(d.withTrace(List.of())), "nothing without lines");
    }
}
