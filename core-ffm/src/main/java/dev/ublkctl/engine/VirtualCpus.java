package dev.ublkctl.engine;

import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * The CPUs a program's runs occupy. The kernel runs a BPF program with migration disabled, so while it
 * runs, its CPU's slot of a per-cpu map and {@code bpf_get_smp_processor_id()} belong to it alone: a
 * program may update a per-cpu value without atomics. The emulated driver runs one queue's program on
 * every submitting thread at once, so a run leases a CPU here for its duration: the queue's own number
 * when it is free (the usual case: one submitter per queue), else any free one. Without the lease, two
 * submitters of one queue would share a per-cpu slot and lose each other's non-atomic updates.
 */
final class VirtualCpus {
    /** Ints between two CPUs' flags, so leases on different CPUs do not share a cache line. */
    private static final int STRIDE = 16;
    private final int n;
    private final AtomicIntegerArray busy;

    VirtualCpus(int n) {
        if (n < 1) throw new IllegalArgumentException("at least one cpu");
        this.n = n;
        busy = new AtomicIntegerArray(n * STRIDE);
    }

    int count() { return n; }

    /** A free CPU, {@code preferred} if it is free; waits (spinning, then yielding) while all {@code n} are taken. */
    int acquire(int preferred) {
        int p = Math.floorMod(preferred, n);
        if (busy.compareAndSet(p * STRIDE, 0, 1)) return p;
        for (int spins = 0; ; spins++) {
            for (int k = 1; k <= n; k++) {
                int c = (p + k) % n;
                if (busy.get(c * STRIDE) == 0 && busy.compareAndSet(c * STRIDE, 0, 1)) return c;
            }
            // as many runs as CPUs at once: a run is short (no kfunc blocks), so one ends soon
            if (spins < 64) Thread.onSpinWait();
            else Thread.yield();
        }
    }

    void release(int cpu) { busy.setRelease(cpu * STRIDE, 0); }

    /** Whether {@code cpu} is leased now (for tests). */
    boolean leased(int cpu) { return busy.get(cpu * STRIDE) != 0; }
}
