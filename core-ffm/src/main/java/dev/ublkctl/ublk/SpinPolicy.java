package dev.ublkctl.ublk;

/**
 * How long a thread waiting for the other side of a hand-off spins before it sleeps, learned from
 * how long its waits take. A sleep costs the other side a wake-up (a futex or eventfd write, an
 * inter-processor interrupt: several microseconds on a virtual machine), paid on the thread that is
 * usually the busy one; a spin costs the waiter's own CPU. So: spin about as long as a wait has
 * lately taken when that is short, and barely at all when waits are long (an idle device, or a
 * loaded machine where the other thread is not running): then sleeping is cheap in comparison.
 *
 * <p>Not thread-safe: one per waiting thread. Times are nanoseconds.
 */
public final class SpinPolicy {
    private final long minNs, maxNs;
    /** Moving average of recent waits (1/8 weight for the newest). */
    private long avgNs;

    /**
     * @param minNs spin at least this long (catches a completion already on its way)
     * @param maxNs never spin longer; waits longer than this on average get {@code minNs}
     */
    public SpinPolicy(long minNs, long maxNs) {
        if (minNs < 0 || maxNs < minNs) throw new IllegalArgumentException("spin bounds " + minNs + ".." + maxNs);
        this.minNs = minNs;
        this.maxNs = maxNs;
        this.avgNs = maxNs + 1; // no history: start by sleeping early
    }

    /** From system properties {@code NAME.minNanos} / {@code NAME.maxNanos}, with these defaults. */
    public static SpinPolicy fromProperties(String name, long minNs, long maxNs) {
        return new SpinPolicy(Long.getLong(name + ".minNanos", minNs), Math.max(Long.getLong(name + ".minNanos", minNs),
                Long.getLong(name + ".maxNanos", maxNs)));
    }

    /** How long to spin before the next sleep. */
    public long spinNanos() {
        if (avgNs > maxNs) return minNs;
        return Math.min(maxNs, Math.max(minNs, avgNs + (avgNs >> 1)));
    }

    /** Records how long a wait took in the end, spin and sleep together. */
    public void waited(long ns) {
        avgNs += (Math.max(0, ns) - avgNs) >> 3;
    }

    /**
     * Whether spin loops execute PAUSE ({@link Thread#onSpinWait}; -Dublkctl.spin.pause=true). Off by default:
     * on the 2-vCPU guest this project is measured on, two threads spinning with PAUSE on either side of a
     * hand-off ran the emulated null device at 1.0 M IOPS, without it at 6.6 M (docs/benchmarks.md; presumably
     * the hypervisor's pause-loop exiting, which takes a vCPU that keeps pausing for a lock waiter). Spins are
     * short and bounded ({@link #spinNanos}), so the cost on bare metal (a hyper-thread sibling's cycles) is small.
     */
    private static final boolean PAUSE = Boolean.getBoolean("ublkctl.spin.pause");

    /** One step of a spin loop. */
    public static void pause() {
        if (PAUSE) Thread.onSpinWait();
    }

    /**
     * Threads of this process spinning now, and how many may at once: one core fewer than there are, so the
     * threads that do the work always have one (-Dublkctl.spin.max). When more threads wait than cores are
     * free — stacked devices, several busy queues on two cores — the extra ones sleep at once instead of
     * spinning on a core the thread they wait for needs.
     */
    private static final java.util.concurrent.atomic.AtomicInteger SPINNING = new java.util.concurrent.atomic.AtomicInteger();
    private static final int MAX_SPINNING = Integer.getInteger("ublkctl.spin.max",
            Math.max(1, Runtime.getRuntime().availableProcessors() - 1));

    /** Takes one of the spinning places; false if all are taken (then sleep at once). Pair with {@link #endSpin}. */
    public static boolean tryStartSpin() {
        if (SPINNING.incrementAndGet() <= MAX_SPINNING) return true;
        SPINNING.decrementAndGet();
        return false;
    }

    /** Gives back the place {@link #tryStartSpin} took. */
    public static void endSpin() { SPINNING.decrementAndGet(); }

    /** The current average wait (for tests and diagnostics). */
    public long averageNanos() { return avgNs; }
}
