package dev.ublkctl.target.qcow2;

import dev.ublkctl.sys.Libc;
import dev.ublkctl.sys.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/** A file an image lives in: whole-range pread/pwrite on one descriptor, short transfers retried. */
final class HostFile implements AutoCloseable {
    final Path path;
    final int fd;
    final boolean writable;
    private boolean closed;

    private HostFile(Path path, int fd, boolean writable) {
        this.path = path;
        this.fd = fd;
        this.writable = writable;
    }

    static HostFile open(Path path, boolean writable) {
        int fd = Libc.open(path.toString(), (writable ? Libc.O_RDWR : Libc.O_RDONLY) | Libc.O_CLOEXEC);
        return new HostFile(path, fd, writable);
    }

    long size() {
        try {
            return java.nio.file.Files.size(Path.of("/proc/self/fd/" + fd));
        } catch (java.io.IOException e) {
            throw new Qcow2FormatException(path + ": " + e.getMessage());
        }
    }

    /**
     * Reads {@code len} bytes at {@code off} into native memory at {@code addr}; what lies past the
     * end of the file reads as zeroes. Returns the bytes that came from the file.
     */
    long read(long off, long addr, long len) {
        MemorySegment dst = MemorySegment.ofAddress(addr).reinterpret(len);
        long done = 0;
        while (done < len) {
            long r = Libc.pread(fd, dst.asSlice(done), len - done, off + done);
            if (r == 0) break;
            done += r;
        }
        if (done < len) dst.asSlice(done).fill((byte) 0);
        return done;
    }

    void write(long off, long addr, long len) {
        MemorySegment src = MemorySegment.ofAddress(addr).reinterpret(len);
        long done = 0;
        while (done < len) {
            long r = Libc.pwrite(fd, src.asSlice(done), len - done, off + done);
            if (r == 0) throw new SyscallException("pwrite", "no progress writing " + path, dev.ublkctl.sys.Errno.EIO);
            done += r;
        }
    }

    /** Reads into a heap array (metadata); zeroes past the end of the file. */
    byte[] read(long off, int len) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Math.max(1, len), 8);
            read(off, s.address(), len);
            return s.asSlice(0, len).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }

    void write(long off, byte[] data, int from, int len) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Math.max(1, len), 8);
            MemorySegment.copy(data, from, s, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, len);
            write(off, s.address(), len);
        }
    }

    void write(long off, byte[] data) { write(off, data, 0, data.length); }

    void sync() { Libc.fsync(fd); }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            Libc.close(fd);
        } catch (SyscallException ignored) {
            // already gone: nothing else to release
        }
    }
}
