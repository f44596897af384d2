package dev.ublkctl.target;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.SyscallException;
import dev.ublkctl.target.qcow2.Qcow2Image;
import dev.ublkctl.ublk.IoOp;
import dev.ublkctl.uring.IoUring;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A qcow2 image as a device. The server side serves every op itself, synchronously on the queue's
 * thread (metadata is shared by all queues under the image's lock). Served READ/WRITE ranges
 * publish their clusters to a {@link MappingSink} when one is set (the qcow2 BPF program's
 * mapping map), so later I/O to them can go straight to the image file from BPF; a cluster
 * whose L2 entry changes is withdrawn first.
 */
public final class Qcow2Target implements Target {
    private static final System.Logger LOG = System.getLogger(Qcow2Target.class.getName());
    private final Path path;
    private final Qcow2Image image;
    private volatile MappingSink sink;
    private boolean closed;

    private Qcow2Target(Path path, Qcow2Image image) {
        this.path = path;
        this.image = image;
    }

    static Qcow2Target open(Path p) {
        if (!Files.isRegularFile(p)) throw new IllegalArgumentException("qcow2 image " + p + " is not a regular file");
        Qcow2Image img = Qcow2Image.open(p, true);
        if (img.size() < 4096 || img.size() % 4096 != 0) {
            long size = img.size();
            img.close();
            throw new IllegalArgumentException("qcow2 image " + p + ": virtual size " + size + " is not a positive multiple of 4096");
        }
        return new Qcow2Target(p, img);
    }

    public Qcow2Image image() { return image; }

    /** Sets (or with null clears) where mappings go; existing mappings are not replayed. */
    public void mappingSink(MappingSink s) {
        synchronized (image) {
            sink = s;
            image.onRemap(s == null ? g -> { } : s::remove);
        }
    }

    @Override public TargetType type() { return TargetType.QCOW2; }
    @Override public long size() { return image.size(); }

    /** Most entries the mapping cache is given (about 48 MiB of VM map); larger images evict (LRU). */
    static final int MAX_MAP_ENTRIES = 1 << 20, MIN_MAP_ENTRIES = 1024;

    /** The BPF mapping cache ({@code qcow2_map}) holds every cluster of the image, within bounds. */
    @Override
    public java.util.Map<String, Integer> programMapSizes() {
        long clusters = (image.size() + (1L << image.clusterBits()) - 1) >>> image.clusterBits();
        return java.util.Map.of("qcow2_map", (int) Math.max(MIN_MAP_ENTRIES, Math.min(MAX_MAP_ENTRIES, clusters)));
    }
    @Override public List<Integer> fds() { return List.of(image.fd()); }
    @Override public boolean supportsDiscard() { return true; }

    @Override
    public Optional<String> problem() {
        if (closed) return Optional.empty();
        try {
            String now = Files.readSymbolicLink(Path.of("/proc/self/fd/" + image.fd())).toString();
            if (now.endsWith(" (deleted)")) return Optional.of("qcow2 image " + path + " was deleted");
        } catch (IOException e) {
            return Optional.of("qcow2 image " + path + ": " + e.getMessage());
        }
        return Optional.empty();
    }

    @Override
    public TargetQueue openQueue(IoUring ring, int depth, int maxIoBytes, PartCompleter done) {
        if (closed) throw new IllegalStateException("qcow2 target closed");
        return new TargetQueue() {
            @Override
            public void submit(int tag, IoOp op, long devOffset, int len, long bufAddr) {
                done.partDone(tag, serve(op, devOffset, len, bufAddr));
            }

            @Override public void onCompletion(long userData, int res) { }
            @Override public int inFlight() { return 0; }
        };
    }

    /** One request, start to end: bytes done (0 for FLUSH) or -errno. */
    int serve(IoOp op, long off, int len, long buf) {
        try {
            switch (op) {
                case READ -> image.read(off, buf, len);
                case WRITE -> image.write(off, buf, len);
                case FLUSH -> image.flush();
                case DISCARD, WRITE_ZEROES, WRITE_SAME -> image.zero(off, len);
            }
            if (op.hasData()) publish(off, len);
            return op == IoOp.FLUSH ? 0 : len;
        } catch (SyscallException e) {
            LOG.log(System.Logger.Level.WARNING, "qcow2 " + path + ": " + op + " at " + off + ": " + e.getMessage());
            return e.errno() > 0 ? -e.errno() : -Errno.EIO;
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "qcow2 " + path + ": " + op + " at " + off + ": " + e.getMessage());
            return -Errno.EIO;
        }
    }

    /** Publishes the plain-data clusters of a served range, under the image lock so no remap slips between. */
    private void publish(long off, int len) {
        MappingSink s = sink;
        if (s == null) return;
        int cb = image.clusterBits();
        synchronized (image) {
            for (long g = off >>> cb; g <= (off + len - 1) >>> cb; g++) {
                Qcow2Image.Mapping m = image.mapping(g);
                if (m.kind() == Qcow2Image.Kind.NORMAL && m.inPlace()) s.put(g, m.hostOffset());
            }
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        image.close();
    }
}
