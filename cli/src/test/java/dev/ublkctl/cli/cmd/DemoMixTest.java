package dev.ublkctl.cli.cmd;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo's load moves: within a cycle every device sees redirect on and off, splitting and non-splitting sizes. */
class DemoMixTest {
    @Test
    void theMixMovesEveryStepAndCyclesThroughBothPathsAndSplits() {
        double cycle = DemoCommand.STEP_SEC * DemoCommand.MIXES.length;
        for (int dev = 0; dev < 3; dev++) {
            Set<DemoCommand.Mix> seen = new HashSet<>();
            boolean redirects = false, none = false, splits = false, whole = false;
            for (double t = 0; t < cycle; t += DemoCommand.STEP_SEC) {
                var m = DemoCommand.mix(t, dev);
                seen.add(m);
                redirects |= m.redirectWrites() && !m.rw().equals("randread") && !m.rw().equals("read");
                none |= !m.redirectWrites() && m.redirectModulo() == 0;
                splits |= m.bs() > 64 << 10;
                whole |= m.bs() < 64 << 10;
                assertNotEquals(m, DemoCommand.mix(t + DemoCommand.STEP_SEC, dev), "the next step differs");
            }
            assertEquals(DemoCommand.MIXES.length, seen.size());
            assertTrue(redirects && none && splits && whole);
            assertEquals(DemoCommand.mix(1, dev), DemoCommand.mix(1 + cycle, dev), "it cycles");
        }
        assertNotEquals(DemoCommand.mix(0, 0), DemoCommand.mix(0, 1), "devices start at different steps");
    }
}
