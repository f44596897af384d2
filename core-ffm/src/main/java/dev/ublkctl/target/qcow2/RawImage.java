package dev.ublkctl.target.qcow2;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/** A raw file as a read-only backing image: guest offset = file offset. */
public final class RawImage implements BlockImage {
    private final HostFile file;
    private final long size;

    private RawImage(HostFile file) {
        this.file = file;
        this.size = file.size();
    }

    static RawImage open(Path p) { return new RawImage(HostFile.open(p, false)); }

    @Override public long size() { return size; }
    @Override public Path path() { return file.path; }

    @Override
    public void read(long off, long addr, int len) {
        long inside = Math.max(0, Math.min(len, size - off));
        if (inside > 0) file.read(off, addr, inside);
        if (inside < len) MemorySegment.ofAddress(addr + inside).reinterpret(len - inside).fill((byte) 0);
    }

    @Override public void close() { file.close(); }
}
