package dev.ublkctl.target;

import dev.ublkctl.sys.Libc;
import dev.ublkctl.uring.IoUring;

import java.util.List;

/** A device's backend on the Java side: sizes, backing files, and one {@link TargetQueue} per queue. */
public sealed interface Target extends AutoCloseable permits NullTarget, FileTarget, FaultInjectTarget {
    TargetType type();

    /** Natural size in bytes. */
    long size();

    /** Backing file descriptors (empty for null), in stripe order. */
    List<Integer> fds();

    /** What is wrong with the target's storage now (a deleted or truncated backing file); empty if nothing. */
    default java.util.Optional<String> problem() { return java.util.Optional.empty(); }

    /** Whether DISCARD / WRITE_ZEROES are served. */
    boolean supportsDiscard();

    /** Per-queue state; its SQEs go on {@code ring}, its results to {@code done}. */
    TargetQueue openQueue(IoUring ring, int depth, int maxIoBytes, PartCompleter done);

    @Override
    void close();

    /** Opens the target a config describes (backing files opened read-write). */
    static Target open(TargetConfig cfg) {
        return switch (cfg) {
            case TargetConfig.Null n -> new NullTarget(n.size());
            case TargetConfig.Loop l -> FileTarget.open(TargetType.LOOP, List.of(l.file()), Integer.MAX_VALUE);
            case TargetConfig.Stripe s -> FileTarget.open(TargetType.STRIPE, s.files(), s.chunkSize());
            case TargetConfig.FaultInject f -> new FaultInjectTarget(f);
        };
    }

    /** Opens a backing file for a target. */
    static int openBacking(java.nio.file.Path p) {
        return Libc.open(p.toString(), Libc.O_RDWR | Libc.O_CLOEXEC);
    }
}
