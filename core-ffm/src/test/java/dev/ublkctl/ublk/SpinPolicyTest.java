package dev.ublkctl.ublk;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class SpinPolicyTest {
    @Test
    void withoutHistoryItSpinsTheMinimum() {
        assertEquals(4_000, new SpinPolicy(4_000, 200_000).spinNanos());
    }

    @Test
    void shortWaitsAreSpunThrough() {
        SpinPolicy p = new SpinPolicy(4_000, 200_000);
        for (int i = 0; i < 100; i++) p.waited(60_000);
        // about the wait plus half again: the next completion of the same rhythm is caught spinning
        assertTrue(p.spinNanos() >= 60_000 && p.spinNanos() <= 200_000, "spin " + p.spinNanos());
    }

    @Test
    void longWaitsFallBackToTheMinimum() {
        SpinPolicy p = new SpinPolicy(4_000, 200_000);
        for (int i = 0; i < 100; i++) p.waited(60_000);
        for (int i = 0; i < 100; i++) p.waited(5_000_000); // an idle device, or a loaded machine
        assertEquals(4_000, p.spinNanos());
    }

    @Test
    void neverAboveTheMaximumNorBelowTheMinimum() {
        SpinPolicy p = new SpinPolicy(4_000, 200_000);
        for (int i = 0; i < 100; i++) p.waited(190_000);
        assertEquals(200_000, p.spinNanos());
        for (int i = 0; i < 100; i++) p.waited(0);
        assertEquals(4_000, p.spinNanos());
        SpinPolicy off = new SpinPolicy(0, 0);
        off.waited(0);
        assertEquals(0, off.spinNanos());
    }

    @Test
    void atMostOneFewerSpinnersThanCores() {
        int max = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
        // threads of earlier tests in this JVM may hold a place for a moment: try again until all are ours
        for (int attempt = 0; ; attempt++) {
            int got = 0;
            try {
                while (got < max + 2 && SpinPolicy.tryStartSpin()) got++;
                if (got < max && attempt < 1000) continue;
                assertEquals(max, got, "spinning places");
                assertFalse(SpinPolicy.tryStartSpin());
                break;
            } finally {
                for (int i = 0; i < got; i++) SpinPolicy.endSpin();
            }
        }
        assertTrue(SpinPolicy.tryStartSpin(), "places come back");
        SpinPolicy.endSpin();
    }

    @Test
    void badBoundsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new SpinPolicy(10, 5));
        assertThrows(IllegalArgumentException.class, () -> new SpinPolicy(-1, 5));
    }
}
