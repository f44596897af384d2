package dev.ublkctl.bpf.testing;

/**
 * Round counts for the seeded fuzz tests. The defaults keep the test run short; a deep sweep is
 * {@code mvn -pl core-ffm test -Dtest='*Fuzz*' -Dfuzz.scale=50} (seeds stay reproducible: round
 * {@code n} always uses the same seed, whatever the scale).
 */
public final class FuzzRounds {
    private FuzzRounds() {}

    public static int of(int base) {
        return Math.multiplyExact(base, Math.max(1, Integer.getInteger("fuzz.scale", 1)));
    }
}
