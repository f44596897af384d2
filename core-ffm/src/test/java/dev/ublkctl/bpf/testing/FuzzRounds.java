package dev.ublkctl.bpf.testing;

/**
 * Round counts for the seeded fuzz tests. The defaults keep the test run short; a deep sweep is
 * {@code mvn -pl core-ffm test -Dtest='*Fuzz*' -Dfuzz.scale=50} (seeds stay reproducible: round
 * {@code n} always uses the same seed, whatever the scale).
 */
public final class FuzzRounds {
    private FuzzRounds() {}

    /**
     * The seed of a seeded campaign: {@code -Dfuzz.seed=N} replays one, {@code -Dfuzz.seed=random}
     * draws a new one each run; the default is fixed, so the test command gives the same run every time.
     */
    public static long seed(long fixed) {
        String s = System.getProperty("fuzz.seed");
        if (s == null || s.isBlank()) return fixed;
        if (s.equals("random")) return System.nanoTime();
        return Long.decode(s);
    }

    public static int of(int base) {
        return Math.multiplyExact(base, Math.max(1, Integer.getInteger("fuzz.scale", 1)));
    }
}
