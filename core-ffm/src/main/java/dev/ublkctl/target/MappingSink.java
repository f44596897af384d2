package dev.ublkctl.target;

/**
 * Where a mapped target (qcow2) publishes guest cluster to host offset mappings for a fast path
 * in BPF, and withdraws them. Both calls happen under the target's metadata lock, before the
 * I/O that caused them completes.
 */
public interface MappingSink {
    /** Guest cluster {@code cluster} lives at {@code hostOffset} in the image file and may be read and written there. */
    void put(long cluster, long hostOffset);

    /** Guest cluster {@code cluster} is about to move or stop being plain data: forget it. */
    void remove(long cluster);
}
