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
 * {@code (c / n) * chunk} ({@link StripeLayout#RAID0}), or where kublk's stripe program puts it
 * while such a program is attached ({@link StripeLayout#KUBLK}); a request crossing chunk
 * boundaries becomes one SQE per piece.
 * FLUSH is an fsync of every file, DISCARD a punched hole, WRITE_ZEROES a zeroed range
 * ({@code fallocate}, keeping the size). Short transfers are resubmitted for the rest; a read
 * that hits the end of a file reads zeroes beyond it.
 */
public final class FileTarget implements Target {
    private final TargetType name;
    /** The files as named when opened: what {@link #problem()} reports in its words. */
    private final List<Path> paths;
    private final int[] fds;
    private final int chunk;
    private final long size;
    /** How stripe chunks map to the files: follows the attached program's (kublk's objects use kublk's). */
    private volatile StripeLayout layout = StripeLayout.RAID0;
    private boolean closed;

    private FileTarget(TargetType name, List<Path> paths, int[] fds, int chunk, long size) {
        this.name = name;
        this.paths = List.copyOf(paths);
        this.fds = fds;
        this.chunk = chunk;
        this.size = size;
    }

    static FileTarget open(TargetType name, List<Path> paths, int chunk) {
        int[] fds = new int[paths.size()];
        int opened = 0;
        try {
            long min = Long.MAX_VALUE;
            java.util.Map<Object, Path> seen = new java.util.HashMap<>();
            for (Path p : paths) {
                boolean block = isBlockDevice(p);
                if (!block && !Files.isRegularFile(p))
                    throw new IllegalArgumentException(name + " backing file " + p + " is not a regular file or a block device");
                // the same file twice (by another name, a hard link, a bind mount) would put two chunks in one place
                Object key = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
                Path before = key == null ? null : seen.putIfAbsent(key, p);
                if (before != null)
                    throw new IllegalArgumentException(name + " backing files " + before + " and " + p + " are the same file");
                // count a descriptor only once open returned it: clean-up must close exactly what was opened
                int fd = Target.openBacking(p);
                fds[opened++] = fd;
                // a block device (/dev/ublkbN, /dev/loopN) has no file size: the kernel says how big it is
                min = Math.min(min, block ? blockDeviceSize(fd) : Files.size(p));
            }
            long unit = chunk == Integer.MAX_VALUE ? 4096 : chunk;
            long per = min / unit * unit;
            if (per == 0)
                throw new IllegalArgumentException(name + " backing file" + (paths.size() > 1 ? "s are" : " is")
                        + " smaller than " + unit + " bytes: " + paths);
            return new FileTarget(name, paths, fds, chunk, per * paths.size());
        } catch (IOException e) {
            for (int i = 0; i < opened; i++) Libc.close(fds[i]);
            throw new IllegalArgumentException(name + " backing file: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            for (int i = 0; i < opened; i++) Libc.close(fds[i]);
            throw e;
        }
    }

    /** BLKGETSIZE64: {@code _IOR(0x12, 114, size_t)}. */
    private static final long BLKGETSIZE64 = 0x80081272L;
    /** {@code S_IFMT} and {@code S_IFBLK} of {@code st_mode}. */
    private static final int S_IFMT = 0170000, S_IFBLK = 0060000;

    /** Whether {@code p} (symlinks followed) is a block device node. */
    static boolean isBlockDevice(Path p) {
        try {
            return (((Number) Files.getAttribute(p, "unix:mode")).intValue() & S_IFMT) == S_IFBLK;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /** The size in bytes of the block device open at {@code fd}. */
    static long blockDeviceSize(int fd) {
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment out = a.allocate(8, 8);
            Libc.ioctl(fd, BLKGETSIZE64, out.address());
            return out.get(java.lang.foreign.ValueLayout.JAVA_LONG, 0);
        }
    }

    @Override public TargetType type() { return name; }
    @Override public long size() { return size; }

    /**
     * What is wrong with the backing files now, if anything: a file deleted or renamed away while
     * open, or shorter than the device needs (truncated by someone else). Empty when all is well.
     */
    @Override
    public java.util.Optional<String> problem() {
        if (closed) return java.util.Optional.empty();
        long need = chunk == Integer.MAX_VALUE ? size : size / fds.length;
        for (int i = 0; i < fds.length; i++) {
            Path link = Path.of("/proc/self/fd/" + fds[i]);
            try {
                String now = Files.readSymbolicLink(link).toString();
                if (now.endsWith(" (deleted)")) return java.util.Optional.of("backing file " + paths.get(i) + " was deleted");
                long len = isBlockDevice(link) ? blockDeviceSize(fds[i]) : Files.size(link);
                if (len < need)
                    return java.util.Optional.of("backing file " + paths.get(i) + " was truncated to " + len + " bytes (needs " + need + ")");
            } catch (IOException e) {
                return java.util.Optional.of("backing file " + paths.get(i) + ": " + e.getMessage());
            }
        }
        return java.util.Optional.empty();
    }
    @Override public boolean supportsDiscard() { return true; }
    /** Stripe chunk in bytes (loop: {@link Integer#MAX_VALUE}). */
    public int chunkSize() { return chunk; }

    /** Where stripe chunks live on the files now. */
    public StripeLayout layout() { return layout; }

    /**
     * Places stripe data as {@code l} says from the next request on (the attached program's layout).
     * @throws IllegalArgumentException the layout is not defined for this many files
     */
    public void layout(StripeLayout l) {
        if (!l.supports(fds.length))
            throw new IllegalArgumentException(l.name().toLowerCase(java.util.Locale.ROOT) + " stripe layout is defined for 1, 2 or 4 files, not "
                    + fds.length);
        layout = l;
    }

    @Override
    public List<Integer> fds() {
        List<Integer> l = new ArrayList<>();
        for (int fd : fds) l.add(fd);
        return l;
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
                StripeLayout l = layout;
                while (left > 0) {
                    int within = (int) (pos % chunk);
                    int n = Math.min(left, chunk - within);
                    int s = base + parts;
                    pFile[s] = l.file(pos, fds.length, chunk);
                    pOff[s] = l.fileOffset(pos, fds.length, chunk);
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
