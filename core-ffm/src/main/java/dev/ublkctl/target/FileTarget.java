package dev.ublkctl.target;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.Libc;
import dev.ublkctl.sys.SyscallException;
import dev.ublkctl.ublk.IoOp;
import dev.ublkctl.uring.IoUring;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loop and stripe: I/O on backing files through the queue's io_uring. Loop is one file with no
 * chunking. Stripe places chunk {@code c} of the device on file {@code c % n} at offset
 * {@code (c / n) * chunk}; a request crossing chunk boundaries becomes one SQE per piece.
 * FLUSH is an fsync of every file, DISCARD a punched hole, WRITE_ZEROES a zeroed range
 * ({@code fallocate}, keeping the size). Short transfers are resubmitted for the rest; a read
 * that hits the end of a file reads zeroes beyond it.
 */
public final class FileTarget implements Target {
    private final String name;
    private final List<Path> paths;
    private final int[] fds;
    private final int chunk;
    private final long size;
    private boolean closed;

    private FileTarget(String name, List<Path> paths, int[] fds, int chunk, long size) {
        this.name = name;
        this.paths = paths;
        this.fds = fds;
        this.chunk = chunk;
        this.size = size;
    }

    static FileTarget open(String name, List<Path> paths, int chunk) {
        int[] fds = new int[paths.size()];
        int opened = 0;
        try {
            long min = Long.MAX_VALUE;
            for (Path p : paths) {
                if (!Files.isRegularFile(p)) throw new IllegalArgumentException(name + " backing file " + p + " is not a regular file");
                min = Math.min(min, Files.size(p));
                fds[opened++] = Target.openBacking(p);
            }
            long unit = chunk == Integer.MAX_VALUE ? 4096 : chunk;
            long per = min / unit * unit;
            if (per == 0)
                throw new IllegalArgumentException(name + " backing file" + (paths.size() > 1 ? "s are" : " is")
                        + " smaller than " + unit + " bytes: " + paths);
            return new FileTarget(name, List.copyOf(paths), fds, chunk, per * paths.size());
        } catch (IOException e) {
            for (int i = 0; i < opened; i++) Libc.close(fds[i]);
            throw new IllegalArgumentException(name + " backing file: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            for (int i = 0; i < opened; i++) Libc.close(fds[i]);
            throw e;
        }
    }

    @Override public String name() { return name; }
    @Override public long size() { return size; }
    @Override public boolean supportsDiscard() { return true; }
    public List<Path> paths() { return paths; }
    /** Stripe chunk in bytes (loop: {@link Integer#MAX_VALUE}). */
    public int chunkSize() { return chunk; }

    @Override
    public List<Integer> fds() {
        List<Integer> l = new ArrayList<>();
        for (int fd : fds) l.add(fd);
        return l;
    }

    /** Where device byte {@code devOffset} lives: {@code {file index, file offset}}. */
    public long[] locate(long devOffset) {
        if (chunk == Integer.MAX_VALUE) return new long[]{0, devOffset};
        long c = devOffset / chunk;
        return new long[]{c % fds.length, (c / fds.length) * chunk + devOffset % chunk};
    }

    @Override
    public TargetQueue openQueue(IoUring ring, int depth, int maxIoBytes, PartCompleter done) {
        if (closed) throw new IllegalStateException(name + " target closed");
        int maxParts = Math.max(fds.length, chunk == Integer.MAX_VALUE ? 1 : maxIoBytes / chunk + 2);
        return new Queue(ring, depth, maxParts, done);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (int fd : fds) {
            try {
                Libc.close(fd);
            } catch (SyscallException ignored) {
                // already gone; nothing else to release
            }
        }
    }

    private final class Queue implements TargetQueue {
        private final IoUring ring;
        private final int maxParts;
        private final PartCompleter done;
        // per tag
        private final byte[] op;
        private final int[] remaining, error, total;
        // per (tag, part): slot = tag * maxParts + part
        private final int[] pFile, pLen, pDone;
        private final long[] pOff, pBuf;
        private int inFlight;
        /** The backing files are registered on the ring (index = file number): no fget/fput per SQE. */
        private final boolean fixed;

        Queue(IoUring ring, int depth, int maxParts, PartCompleter done) {
            this.ring = ring;
            boolean f = false;
            if (ring.registeredFiles() == 0) {
                try {
                    ring.registerFiles(fds);
                    f = true;
                } catch (SyscallException e) {
                    // a kernel or limit that refuses: plain descriptors work the same, a little slower
                }
            }
            this.fixed = f;
            this.maxParts = maxParts;
            this.done = done;
            op = new byte[depth];
            remaining = new int[depth];
            error = new int[depth];
            total = new int[depth];
            int n = depth * maxParts;
            pFile = new int[n];
            pLen = new int[n];
            pDone = new int[n];
            pOff = new long[n];
            pBuf = new long[n];
        }

        @Override
        public void submit(int tag, IoOp o, long devOffset, int len, long bufAddr) {
            op[tag] = (byte) o.code;
            error[tag] = 0;
            total[tag] = o == IoOp.FLUSH ? 0 : len;
            int parts = 0;
            int base = tag * maxParts;
            if (o == IoOp.FLUSH) {
                for (int f = 0; f < fds.length; f++) {
                    pFile[base + f] = f;
                    pOff[base + f] = 0;
                    pLen[base + f] = 0;
                    pDone[base + f] = 0;
                }
                parts = fds.length;
            } else if (chunk == Integer.MAX_VALUE) {
                pFile[base] = 0;
                pOff[base] = devOffset;
                pLen[base] = len;
                pDone[base] = 0;
                pBuf[base] = bufAddr;
                parts = 1;
            } else {
                long pos = devOffset;
                int left = len;
                long buf = bufAddr;
                while (left > 0) {
                    long c = pos / chunk;
                    int within = (int) (pos % chunk);
                    int n = Math.min(left, chunk - within);
                    int s = base + parts;
                    pFile[s] = (int) (c % fds.length);
                    pOff[s] = (c / fds.length) * chunk + within;
                    pLen[s] = n;
                    pDone[s] = 0;
                    pBuf[s] = buf;
                    parts++;
                    pos += n;
                    buf += n;
                    left -= n;
                }
            }
            remaining[tag] = parts;
            for (int p = 0; p < parts; p++) issue(tag, p);
        }

        private void issue(int tag, int part) {
            int s = tag * maxParts + part;
            int fd = fixed ? pFile[s] : fds[pFile[s]];
            long off = pOff[s] + pDone[s];
            int len = pLen[s] - pDone[s];
            long ud = TargetQueue.userData(tag, part);
            dev.ublkctl.uring.Sqe sqe = switch (op[tag]) {
                case 0 -> ring.sqe().prepRead(fd, pBuf[s] + pDone[s], len, off);
                case 1 -> ring.sqe().prepWrite(fd, pBuf[s] + pDone[s], len, off);
                case 2 -> ring.sqe().prepFsync(fd, 0);
                case 3, 4 -> ring.sqe().prepFallocate(fd, Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE, off, len);
                case 5 -> ring.sqe().prepFallocate(fd, Libc.FALLOC_FL_ZERO_RANGE | Libc.FALLOC_FL_KEEP_SIZE, off, len);
                default -> throw new IllegalStateException("op " + op[tag]);
            };
            sqe.userData(ud);
            if (fixed) sqe.fixedFile(fd);
            inFlight++;
        }

        @Override
        public void onCompletion(long userData, int res) {
            inFlight--;
            int tag = TargetQueue.tagOf(userData), part = TargetQueue.partOf(userData);
            int s = tag * maxParts + part;
            int o = op[tag];
            if (res >= 0 && (o == 0 || o == 1)) {
                pDone[s] += res;
                if (pDone[s] < pLen[s]) {
                    if (res > 0) {
                        issue(tag, part); // short transfer: ask for the rest
                        return;
                    }
                    if (o == 0) {
                        // end of file: the rest reads as zeroes
                        MemorySegment.ofAddress(pBuf[s] + pDone[s]).reinterpret(pLen[s] - pDone[s]).fill((byte) 0);
                    } else {
                        res = -Errno.EIO; // a write that makes no progress
                    }
                }
            }
            if (res < 0 && error[tag] == 0) error[tag] = res;
            if (--remaining[tag] == 0) done.partDone(tag, error[tag] != 0 ? error[tag] : total[tag]);
        }

        @Override public int inFlight() { return inFlight; }
    }
}
