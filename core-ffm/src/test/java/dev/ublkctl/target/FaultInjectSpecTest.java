package dev.ublkctl.target;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** fault_inject's spec: what it reads, and one clear refusal for anything else (the CLI and the RPC share it). */
class FaultInjectSpecTest {
    @Test
    void readsEveryKeyAndUnit() {
        var f = TargetConfig.FaultInject.parse(1 << 20, "delay=200us,every=7,errno=ENOSPC");
        assertEquals(200_000, f.delayNs());
        assertEquals(7, f.failEvery());
        assertEquals(28, f.errno());
        assertEquals("delay=200000,every=7,errno=ENOSPC", f.spec());
        assertEquals(f, TargetConfig.FaultInject.parse(1 << 20, f.spec()), "spec() reads back");
        assertEquals(3_000_000_000L, TargetConfig.FaultInject.parse(4096, "delay=3s").delayNs());
        assertEquals(5, TargetConfig.FaultInject.parse(4096, null).errno(), "EIO by default");
    }

    @Test
    void refusesWithOneLine() {
        for (String bad : new String[]{"every=x", "delay=", "delay=1x", "delay=99999999999999999s", "delay=20s", "errno=EBOGUS",
                "errno=0", "every=-1", "colour=red", "every"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> TargetConfig.FaultInject.parse(4096, bad), bad);
            assertNotNull(e.getMessage(), bad);
            assertFalse(e.getMessage().contains("Exception"), bad + ": " + e.getMessage());
        }
    }
}
