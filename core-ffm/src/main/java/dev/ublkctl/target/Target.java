package dev.ublkctl.target;

import dev.ublkctl.sys.Libc;
import dev.ublkctl.uring.IoUring;

import java.util.List;

/** A device's backend on the Java side: sizes, backing files, and one {@link TargetQueue} per queue. */
public sealed interface Target extends AutoCloseable permits NullTarget, FileTarget, FaultInjectTarget, StackedTarget, Qcow2Target {
    TargetType type();

    /** Natural size in bytes. */
    long size();

    /** Backing file descriptors (empty for null), in stripe order. */
    List<Integer> fds();

    /** What is wrong with the target's storage now (a deleted or truncated backing file); empty if nothing. */
    default java.util.Optional<String> problem() { return java.util.Optional.empty(); }

    /**
     * How many entries the maps of a program serving this target should hold, by map name, where the target
     * knows better than the object's default (as a libbpf loader sets {@code max_entries} before load):
     * qcow2 sizes its mapping cache to the image's clusters. Empty by default.
     */
    default java.util.Map<String, Integer> programMapSizes() { return java.util.Map.of(); }

    /** Whether DISCARD / WRITE_ZEROES are served. */
    boolean supportsDiscard();

    /** Per-queue state; its SQEs go on {@code ring}, its results to {@code done}. */
    TargetQueue openQueue(IoUring ring, int depth, int maxIoBytes, PartCompleter done);

    @Override
    void close();

    /**
     * Opens the target a config describes; backings named {@code ublk:N} are devices {@code lower}
     * gives (stacking: loop or stripe over other devices of the same engine, in process).
     */
    static Target open(TargetConfig cfg, java.util.function.IntFunction<dev.ublkctl.ublk.BlockDevice> lower) {
        List<java.nio.file.Path> files = switch (cfg) {
            case TargetConfig.Null n -> List.of();
            case TargetConfig.Loop l -> List.of(l.file());
            case TargetConfig.Stripe s -> s.files();
            case TargetConfig.FaultInject f -> List.of();
            case TargetConfig.Qcow2 q -> List.of(q.file());
            case TargetConfig.Nbd n -> List.of();
        };
        long stacked = files.stream().filter(f -> TargetConfig.ublkDevice(f) >= 0).count();
        if (stacked == 0) return open(cfg);
        if (cfg instanceof TargetConfig.Qcow2) throw new IllegalArgumentException("qcow2 needs an image file, not another device: " + files);
        if (stacked != files.size())
            throw new IllegalArgumentException(cfg.type() + ": backing files and ublk:N devices cannot be mixed: " + files);
        List<Integer> ids = files.stream().map(TargetConfig::ublkDevice).toList();
        return switch (cfg) {
            case TargetConfig.Stripe s -> StackedTarget.open(TargetType.STRIPE, ids, s.chunkSize(), lower);
            default -> StackedTarget.open(TargetType.LOOP, ids, Integer.MAX_VALUE, lower);
        };
    }

    /** Opens the target a config describes (backing files opened read-write). */
    static Target open(TargetConfig cfg) {
        return switch (cfg) {
            case TargetConfig.Null n -> new NullTarget(n.size());
            case TargetConfig.Loop l -> FileTarget.open(TargetType.LOOP, List.of(l.file()), Integer.MAX_VALUE);
            case TargetConfig.Stripe s -> FileTarget.open(TargetType.STRIPE, s.files(), s.chunkSize());
            case TargetConfig.FaultInject f -> new FaultInjectTarget(f);
            case TargetConfig.Qcow2 q -> Qcow2Target.open(q.file());
            case TargetConfig.Nbd n -> StackedTarget.overNbd(n);
        };
    }

    /** Opens a backing file for a target. */
    static int openBacking(java.nio.file.Path p) {
        return Libc.open(p.toString(), Libc.O_RDWR | Libc.O_CLOEXEC);
    }
}
