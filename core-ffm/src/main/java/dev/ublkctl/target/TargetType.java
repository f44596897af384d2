package dev.ublkctl.target;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The kinds of target, by the names the command line, the RPC and the device records use
 * ({@link #toString()}). {@link #config} is the one place that turns a request's files, size and
 * chunk into a {@link TargetConfig}: the command line and the daemon both call it, so both refuse
 * the same requests with the same words.
 */
public enum TargetType {
    NULL("null"), LOOP("loop"), STRIPE("stripe"), FAULT_INJECT("fault_inject"), QCOW2("qcow2"), NBD("nbd");

    private final String label;

    TargetType(String label) { this.label = label; }

    /** The name users type and JSON carries. */
    @Override public String toString() { return label; }

    /** The type a name (any case) stands for. */
    public static TargetType of(String name) {
        if (name != null) {
            for (TargetType t : values()) if (t.label.equals(name.toLowerCase(Locale.ROOT))) return t;
        }
        throw new IllegalArgumentException("unknown target '" + name + "' (" + names() + ")");
    }

    /** "null, loop, stripe, fault_inject, qcow2, nbd". */
    public static String names() {
        return String.join(", ", Arrays.stream(values()).map(TargetType::toString).toList());
    }

    /**
     * The target a request describes.
     *
     * @param files absolute backing files (must exist)
     * @param size  the null target's size, 0 for its default (the others take the files' size)
     * @param chunk the stripe chunk in bytes, 0 for the default
     * @param fault fault_inject's spec ({@link TargetConfig.FaultInject#parse}), null for its defaults
     */
    public TargetConfig config(List<Path> files, long size, long chunk, String fault) {
        if (fault != null && this != FAULT_INJECT) throw new IllegalArgumentException("a fault spec is for the fault_inject target");
        for (Path f : files) {
            if (TargetConfig.ublkDevice(f) >= 0) continue;   // another device of the engine (stacking): checked when opened
            if (!Files.exists(f)) throw new IllegalArgumentException("no such file: " + f);
            if (Files.isDirectory(f)) throw new IllegalArgumentException("not a file: " + f);
        }
        if (chunk < 0) throw new IllegalArgumentException("chunk must be >= 0 (0: the default), got " + chunk);
        if (chunk != 0 && this != STRIPE) throw new IllegalArgumentException("a chunk size is for the stripe target");
        return switch (this) {
            case NULL -> {
                if (!files.isEmpty()) throw new IllegalArgumentException("target null takes no files");
                yield size > 0 ? new TargetConfig.Null(size) : new TargetConfig.Null();
            }
            case LOOP -> {
                if (files.size() != 1) throw new IllegalArgumentException("target loop needs exactly one file");
                yield new TargetConfig.Loop(files.getFirst());
            }
            case STRIPE -> {
                yield chunk == 0 ? new TargetConfig.Stripe(files)
                        : new TargetConfig.Stripe(files, TargetConfig.Stripe.checkChunk(chunk));
            }
            case NBD -> throw new IllegalArgumentException("target nbd needs the URL of an NBD export (--url nbd://HOST[:PORT]/NAME "
                    + "or nbd+unix:///NAME?socket=PATH), not files");
            case FAULT_INJECT -> {
                if (!files.isEmpty()) throw new IllegalArgumentException("target fault_inject takes no files");
                yield TargetConfig.FaultInject.parse(size > 0 ? size : TargetConfig.FaultInject.DEFAULT_SIZE, fault);
            }
            case QCOW2 -> {
                if (files.size() != 1) throw new IllegalArgumentException("target qcow2 needs exactly one image file");
                if (TargetConfig.ublkDevice(files.getFirst()) >= 0)
                    throw new IllegalArgumentException("target qcow2 needs an image file, not another device: " + files.getFirst());
                yield new TargetConfig.Qcow2(files.getFirst());
            }
        };
    }

    /**
     * A target over NBD exports: {@code nbd} (one URL) or {@code stripe} (1..4 URLs, in chunks).
     * @param chunk the stripe chunk in bytes, 0 for the default
     */
    public TargetConfig nbdConfig(List<String> urls, long chunk) {
        return switch (this) {
            case NBD -> {
                if (urls.size() != 1) throw new IllegalArgumentException("target nbd needs exactly one URL (a stripe over several: -t stripe)");
                if (chunk != 0) throw new IllegalArgumentException("a chunk size is for the stripe target");
                yield new TargetConfig.Nbd(TargetType.NBD, urls, Integer.MAX_VALUE);
            }
            case STRIPE -> new TargetConfig.Nbd(TargetType.STRIPE, urls,
                    chunk == 0 ? TargetConfig.Stripe.DEFAULT_CHUNK : TargetConfig.Stripe.checkChunk(chunk));
            default -> throw new IllegalArgumentException("target " + this + " takes no NBD URLs (nbd or stripe do)");
        };
    }

    /** {@link #config(List, long, long, String)} without fault_inject's spec (its defaults). */
    public TargetConfig config(List<Path> files, long size, long chunk) { return config(files, size, chunk, null); }
}
