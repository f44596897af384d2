package dev.ublkctl.target.qcow2;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/** A disk image read by guest offset: a qcow2 image or a raw file, as a backing chain holds them. */
public sealed interface BlockImage extends AutoCloseable permits Qcow2Image, RawImage {
    /** Longest backing chain followed (QEMU has no fixed limit; this one stops runaway chains). */
    int MAX_CHAIN = 16;

    /** Virtual size in bytes. */
    long size();

    Path path();

    /** Reads {@code len} bytes at guest offset {@code off} into native memory at {@code addr}; past {@link #size()} reads zeroes. */
    void read(long off, long addr, int len);

    @Override
    void close();

    /**
     * Opens a read-only backing image. {@code format} is the backing format the overlay names
     * ({@code qcow2}, {@code raw}) or null to look at the file; {@code chain} holds the real paths
     * already open above it (a loop is refused).
     */
    static BlockImage openBacking(Path p, String format, Set<Path> chain) {
        Path real;
        try {
            real = p.toRealPath();
        } catch (IOException e) {
            throw new Qcow2FormatException("backing file " + p + " cannot be opened: " + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage()));
        }
        if (chain.contains(real)) throw new Qcow2FormatException("backing chain loops back to " + real);
        if (chain.size() >= MAX_CHAIN) throw new Qcow2FormatException("backing chain is longer than " + MAX_CHAIN + " images at " + real);
        if (!Files.isRegularFile(real)) throw new Qcow2FormatException("backing file " + p + " is not a regular file");
        String fmt = format;
        if (fmt == null) fmt = isQcow2(real) ? "qcow2" : "raw";
        Set<Path> next = new LinkedHashSet<>(chain);
        next.add(real);
        return switch (fmt) {
            case "qcow2" -> Qcow2Image.open(real, false, next);
            case "raw" -> RawImage.open(real);
            default -> throw new Qcow2FormatException("backing file " + p + " has format '" + fmt + "' (qcow2 and raw are supported)");
        };
    }

    /** Whether the file starts with the qcow2 magic. */
    static boolean isQcow2(Path p) {
        try (var in = Files.newInputStream(p)) {
            byte[] m = in.readNBytes(4);
            return m.length == 4 && java.nio.ByteBuffer.wrap(m).getInt() == Qcow2Header.MAGIC;
        } catch (IOException e) {
            return false;
        }
    }
}
