package dev.ublkctl.target.qcow2;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A qcow2 image (version 2 or 3) read and written by guest offset.
 *
 * <p>Guest cluster {@code g} is found through L1 entry {@code g >> (clusterBits - 3)} and the L2
 * entry below it. Metadata is written through (every change goes to the file at once) in the
 * order that keeps the image consistent if the process dies between any two writes: a new
 * cluster's refcount first, then its contents, then the L2 entry, then the L1 entry; old clusters
 * are released last. A kill therefore leaves at worst leaked clusters. New clusters are taken at
 * the end of the file; freed ones are not reused, so a host offset that was ever mapped never
 * holds another guest cluster's data while this process runs.
 *
 * <p>All public methods hold the image's lock: queues share one image.
 */
public final class Qcow2Image implements BlockImage {
    static final long L2_COPIED = 1L << 63, L2_COMPRESSED = 1L << 62, L2_ZERO = 1L;
    static final long OFFSET_MASK = 0x00ff_ffff_ffff_fe00L;
    /** Cache budget for L2 tables and refcount blocks, each. */
    static final long CACHE_BYTES = 8L << 20;
    /** Largest L1 table held in memory (entries): 2^24 covers 1 PiB at 64 KiB clusters. */
    static final int MAX_L1 = 1 << 24;

    /** What a guest cluster is in this image (not looking at the backing file). */
    public enum Kind { UNALLOCATED, ZERO, NORMAL, COMPRESSED }

    /** A guest cluster's L2 state: {@code hostOffset} is meaningful for NORMAL; {@code inPlace} when writes may go there. */
    public record Mapping(Kind kind, long hostOffset, boolean inPlace) { }

    private final HostFile file;
    private final Qcow2Header h;
    private final int cb, cs, l2Bits, refBits;
    private final long epb;   // refcount entries per block
    private final long[] l1;
    private long[] refTable;
    private long rtOffset;
    private final BlockImage backing;
    private final LruCache<long[]> l2Cache;
    private final LruCache<byte[]> refCache;
    private long cursor;      // next cluster index tried for allocation
    private long fileSize;
    private long cachedCompressedEntry = -1;
    private byte[] cachedCompressed;
    private MemorySegment zeroes;
    private final Arena arena = Arena.ofShared();
    private LongConsumer onRemap = g -> { };
    private boolean closed;
    private boolean autoclearDone;

    private Qcow2Image(HostFile file, Qcow2Header h, long[] l1, long[] refTable, BlockImage backing, long fileSize) {
        this.file = file;
        this.h = h;
        this.cb = h.clusterBits();
        this.cs = h.clusterSize();
        this.l2Bits = cb - 3;
        this.refBits = h.refcountBits();
        this.epb = (long) cs * 8 / refBits;
        this.l1 = l1;
        this.refTable = refTable;
        this.rtOffset = h.refcountTableOffset();
        this.backing = backing;
        int tables = (int) Math.max(4, CACHE_BYTES / cs);
        this.l2Cache = new LruCache<>(tables);
        this.refCache = new LruCache<>(tables);
        this.fileSize = fileSize;
        this.cursor = Math.ceilDiv(fileSize, (long) cs);
    }

    /** Opens {@code p} for serving: read-write, backing chain read-only. */
    public static Qcow2Image open(Path p, boolean writable) {
        Path real;
        try {
            real = p.toRealPath();
        } catch (java.io.IOException e) {
            throw new Qcow2FormatException(p + ": " + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage()));
        }
        return open(real, writable, new java.util.LinkedHashSet<>(Set.of(real)));
    }

    static Qcow2Image open(Path p, boolean writable, Set<Path> chain) {
        HostFile f = HostFile.open(p, writable);
        BlockImage backing = null;
        try {
            long fileSize = f.size();
            Qcow2Header h = Qcow2Header.read(f, fileSize, p.toString());
            ImageLock.acquire(f, writable);
            if (h.l1Size() > MAX_L1) throw new Qcow2FormatException(p + ": L1 table of " + h.l1Size() + " entries is larger than supported (" + MAX_L1 + ")");
            if (writable && h.nbSnapshots() > 0)
                throw new Qcow2FormatException(p + ": images with internal snapshots can only be read (it has " + h.nbSnapshots() + ")");
            long[] l1 = readTable(f, h.l1TableOffset(), h.l1Size());
            long rtEntries = (long) h.refcountTableClusters() * h.clusterSize() / 8;
            if (rtEntries > MAX_L1) throw new Qcow2FormatException(p + ": refcount table of " + rtEntries + " entries is larger than supported");
            long[] rt = readTable(f, h.refcountTableOffset(), (int) rtEntries);
            for (int i = 0; i < l1.length; i++) {
                long o = l1[i] & OFFSET_MASK;
                if (o != 0 && (o % h.clusterSize() != 0 || o + h.clusterSize() > fileSize))
                    throw new Qcow2FormatException(p + ": L1 entry " + i + " points to " + o + ", past the end of the file (" + fileSize + " bytes) or misaligned");
            }
            for (int i = 0; i < rt.length; i++) {
                long o = rt[i] & ~511L;
                if (o != 0 && (o % h.clusterSize() != 0 || o + h.clusterSize() > fileSize))
                    throw new Qcow2FormatException(p + ": refcount table entry " + i + " points to " + o + ", past the end of the file or misaligned");
            }
            if (h.backingFile() != null) {
                Path bp = Path.of(h.backingFile());
                if (!bp.isAbsolute() && p.getParent() != null) bp = p.getParent().resolve(bp);
                backing = BlockImage.openBacking(bp, h.backingFormat(), chain);
            }
            return new Qcow2Image(f, h, l1, rt, backing, fileSize);
        } catch (RuntimeException e) {
            if (backing != null) backing.close();
            f.close();
            if (e instanceof Qcow2FormatException) throw e;
            throw new Qcow2FormatException(p + ": " + e.getMessage());
        }
    }

    /**
     * Makes an empty version 3 image of {@code size} bytes (a multiple of 512) with clusters of
     * {@code 1 << clusterBits} bytes, laid out as qemu-img lays one out: header, refcount table,
     * one refcount block, L1 table, each cluster-aligned; 16-bit refcounts. Refuses to overwrite.
     */
    public static void create(Path p, long size, int clusterBits) {
        if (clusterBits < 9 || clusterBits > 21) throw new IllegalArgumentException("cluster bits must be 9..21, got " + clusterBits);
        if (size <= 0 || size % 512 != 0) throw new IllegalArgumentException("qcow2 size must be a positive multiple of 512, got " + size);
        long cs = 1L << clusterBits;
        long l1Entries = Math.ceilDiv(Math.ceilDiv(size, cs), cs / 8);
        long l1Clusters = Math.max(1, Math.ceilDiv(l1Entries * 8, cs));
        long used = 3 + l1Clusters;   // header, refcount table, refcount block, L1
        if (used > cs * 8 / 16) throw new IllegalArgumentException("qcow2 image of " + size + " bytes needs a larger cluster size");
        if (l1Entries > MAX_L1) throw new IllegalArgumentException("qcow2 image of " + size + " bytes is too large for " + cs + "-byte clusters");
        ByteBuffer b = ByteBuffer.allocate((int) (used * cs));
        var L = Qcow2Header.LAYOUT;
        java.util.function.BiConsumer<String, Long> put = (f, v) -> {
            long off = Qcow2Header.offsetOf(f);
            long width = L.select(java.lang.foreign.MemoryLayout.PathElement.groupElement(f)).byteSize();
            if (width == 8) b.putLong((int) off, v);
            else if (width == 4) b.putInt((int) off, (int) (long) v);
            else b.put((int) off, (byte) (long) v);
        };
        put.accept("magic", (long) Qcow2Header.MAGIC);
        put.accept("version", 3L);
        put.accept("cluster_bits", (long) clusterBits);
        put.accept("size", size);
        put.accept("l1_size", l1Entries);
        put.accept("l1_table_offset", 3 * cs);
        put.accept("refcount_table_offset", cs);
        put.accept("refcount_table_clusters", 1L);
        put.accept("refcount_order", 4L);
        put.accept("header_length", Qcow2Header.LAYOUT.byteSize());
        // no header extensions: the end marker (type 0) follows the header
        b.putLong((int) cs, 2 * cs);                                 // refcount table[0] -> the block
        for (int c = 0; c < used; c++) b.putShort((int) (2 * cs + 2L * c), (short) 1);
        try (var ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            b.rewind();
            while (b.hasRemaining()) ch.write(b);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot create " + p + ": " + e.getMessage(), e);
        }
    }

    private static long[] readTable(HostFile f, long off, int n) {
        long[] t = new long[n];
        ByteBuffer b = ByteBuffer.wrap(f.read(off, n * 8));
        for (int i = 0; i < n; i++) t[i] = b.getLong();
        return t;
    }

    public Qcow2Header header() { return h; }
    @Override public long size() { return h.size(); }
    @Override public Path path() { return file.path; }
    public int clusterSize() { return cs; }
    public int clusterBits() { return cb; }
    /** The image file's descriptor (the BPF fast path reads and writes mapped clusters there). */
    public int fd() { return file.fd; }
    public java.util.Optional<BlockImage> backing() { return java.util.Optional.ofNullable(backing); }

    /** Called, under the image lock, with a guest cluster whose L2 entry is about to change. */
    public synchronized void onRemap(LongConsumer l) { this.onRemap = l; }

    // ------------------------------------------------------------------ reading

    @Override
    public synchronized void read(long off, long addr, int len) {
        long end = off + len;
        long inside = Math.max(0, Math.min(end, h.size()) - off);
        long pos = off;
        while (pos < off + inside) {
            long g = pos >>> cb;
            int within = (int) (pos & (cs - 1));
            int n = (int) Math.min(cs - within, off + inside - pos);
            readCluster(g, within, addr + (pos - off), n);
            pos += n;
        }
        if (inside < len) MemorySegment.ofAddress(addr + inside).reinterpret(len - inside).fill((byte) 0);
    }

    private void readCluster(long g, int within, long addr, int n) {
        long e = l2Entry(g);
        if ((e & L2_COMPRESSED) != 0) {
            byte[] c = decompress(e);
            MemorySegment.copy(c, within, MemorySegment.ofAddress(addr).reinterpret(n), ValueLayout.JAVA_BYTE, 0, n);
            return;
        }
        if (h.version() >= 3 && (e & L2_ZERO) != 0) {
            MemorySegment.ofAddress(addr).reinterpret(n).fill((byte) 0);
            return;
        }
        long host = e & OFFSET_MASK;
        if (host == 0) {
            if (backing != null) backing.read((g << cb) + within, addr, n);
            else MemorySegment.ofAddress(addr).reinterpret(n).fill((byte) 0);
            return;
        }
        file.read(host + within, addr, n);
    }

    /** The L2 entry of guest cluster {@code g}, 0 where there is no L2 table. */
    private long l2Entry(long g) {
        long i1 = g >>> l2Bits;
        if (i1 >= l1.length) return 0;
        long t = l1[(int) i1] & OFFSET_MASK;
        if (t == 0) return 0;
        return l2Table(t)[(int) (g & ((1L << l2Bits) - 1))];
    }

    private long[] l2Table(long off) {
        long[] t = l2Cache.get(off);
        if (t == null) {
            // past the end it would read as zeroes, i.e. unallocated: a misread, not an answer
            if (off + cs > fileSize) throw new Qcow2FormatException(file.path + ": L2 table at " + off + " lies past the end of the file (" + fileSize + " bytes)");
            t = readTable(file, off, cs / 8);
            l2Cache.put(off, t);
        }
        return t;
    }

    /** A guest cluster's state, for the fast path's mapping. */
    public synchronized Mapping mapping(long g) {
        long e = l2Entry(g);
        if ((e & L2_COMPRESSED) != 0) return new Mapping(Kind.COMPRESSED, 0, false);
        if (h.version() >= 3 && (e & L2_ZERO) != 0) return new Mapping(Kind.ZERO, 0, false);
        long host = e & OFFSET_MASK;
        if (host == 0) return new Mapping(Kind.UNALLOCATED, 0, false);
        return new Mapping(Kind.NORMAL, host, (e & L2_COPIED) != 0);
    }

    private byte[] decompress(long e) {
        if (e == cachedCompressedEntry) return cachedCompressed;
        int x = 62 - (cb - 8);
        long off = e & ((1L << x) - 1);
        long sectors = (e >>> x) & ((1L << (cb - 8)) - 1);
        long clen = (sectors + 1) * 512 - (off & 511);
        clen = Math.min(clen, fileSize - off);
        if (off <= 0 || clen <= 0) throw new Qcow2FormatException(file.path + ": compressed cluster at " + off + " lies past the end of the file");
        byte[] in = file.read(off, (int) clen);
        byte[] out = new byte[cs];
        Inflater inf = new Inflater(true);
        try {
            inf.setInput(in);
            int got = 0;
            while (got < cs) {
                int r = inf.inflate(out, got, cs - got);
                if (r == 0 && (inf.finished() || inf.needsInput() || inf.needsDictionary())) break;
                got += r;
            }
            if (got < cs) throw new Qcow2FormatException(file.path + ": compressed cluster at " + off + " inflates to " + got + " bytes, not " + cs);
        } catch (DataFormatException ex) {
            throw new Qcow2FormatException(file.path + ": compressed cluster at " + off + " is not valid deflate data: " + ex.getMessage());
        } finally {
            inf.end();
        }
        cachedCompressedEntry = e;
        cachedCompressed = out;
        return out;
    }

    // ------------------------------------------------------------------ writing

    private void checkWritable() {
        if (!file.writable) throw new IllegalStateException(file.path + " is open read-only");
        if (!autoclearDone) {
            // the spec: a writer that does not maintain auto-clear features (bitmaps) clears their bits first
            if (h.autoclearFeatures() != 0) writeLong(Qcow2Header.offsetOf("autoclear_features"), 0);
            autoclearDone = true;
        }
    }

    /** Writes {@code len} bytes from native memory at {@code addr} to guest offset {@code off}. */
    public synchronized void write(long off, long addr, int len) {
        checkWritable();
        checkRange(off, len);
        long pos = off;
        while (pos < off + len) {
            long g = pos >>> cb;
            int within = (int) (pos & (cs - 1));
            int n = (int) Math.min(cs - within, off + len - pos);
            writeCluster(g, within, addr + (pos - off), n);
            pos += n;
        }
    }

    /**
     * Makes {@code [off, off + len)} read as zeroes (write-zeroes and discard): whole clusters
     * become zero clusters in version 3 (unallocated in version 2 when nothing shows through
     * from a backing file), partial ones are written with zeroes.
     */
    public synchronized void zero(long off, long len) {
        checkWritable();
        checkRange(off, len);
        long pos = off;
        while (pos < off + len) {
            long g = pos >>> cb;
            int within = (int) (pos & (cs - 1));
            int n = (int) Math.min(cs - within, off + len - pos);
            if (n == cs) zeroCluster(g);
            else if (!readsZero(g)) writeCluster(g, within, 0, n);
            pos += n;
        }
    }

    private void checkRange(long off, long len) {
        if (off < 0 || len < 0 || off + len > h.size())
            throw new IllegalArgumentException("range " + off + "+" + len + " is past the end of the image (" + h.size() + " bytes)");
    }

    /** Whether a cluster reads as zeroes without looking at data (unallocated with no backing, or a zero cluster). */
    private boolean readsZero(long g) {
        long e = l2Entry(g);
        if ((e & L2_COMPRESSED) != 0) return false;
        if (h.version() >= 3 && (e & L2_ZERO) != 0) return true;
        return (e & OFFSET_MASK) == 0 && backing == null;
    }

    private void zeroCluster(long g) {
        if (readsZero(g)) return;
        if (h.version() < 3 && backing != null) {
            writeCluster(g, 0, 0, cs);   // version 2 has no zero clusters: the backing file would show through
            return;
        }
        long t = ensureL2(g);
        int i = (int) (g & ((1L << l2Bits) - 1));
        long old = l2Table(t)[i];
        setL2(t, i, g, h.version() >= 3 ? L2_ZERO : 0);
        release(old);
    }

    /** {@code addr == 0}: write zeroes. */
    private void writeCluster(long g, int within, long addr, int n) {
        long t = ensureL2(g);
        int i = (int) (g & ((1L << l2Bits) - 1));
        long e = l2Table(t)[i];
        long host = e & OFFSET_MASK;
        boolean zeroFlag = h.version() >= 3 && (e & L2_ZERO) != 0;
        if ((e & L2_COMPRESSED) == 0 && host != 0 && (e & L2_COPIED) != 0 && !zeroFlag) {
            file.write(host + within, addr == 0 ? zeroes().address() : addr, n);
            return;
        }
        // allocate: the new cluster holds what the guest saw there, with this write on top
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(cs, 4096);
            if (n < cs) readCluster(g, 0, buf.address(), cs);
            if (addr == 0) buf.asSlice(within, n).fill((byte) 0);
            else MemorySegment.copy(MemorySegment.ofAddress(addr).reinterpret(n), 0, buf, within, n);
            long c = allocCluster();
            file.write(c, buf.address(), cs);
            fileSize = Math.max(fileSize, c + cs);
            setL2(t, i, g, c | L2_COPIED);
        }
        release(e);
    }

    private MemorySegment zeroes() {
        if (zeroes == null) zeroes = arena.allocate(cs, 4096);   // allocate() zero-fills
        return zeroes;
    }

    /** The L2 table's offset for guest cluster {@code g}, allocating an empty one if there is none. */
    private long ensureL2(long g) {
        int i1 = (int) (g >>> l2Bits);
        long t = l1[i1] & OFFSET_MASK;
        if (t != 0) return t;
        long c = allocCluster();
        file.write(c, zeroes().address(), cs);
        fileSize = Math.max(fileSize, c + cs);
        l2Cache.put(c, new long[cs / 8]);
        l1[i1] = c | L2_COPIED;
        writeLong(h.l1TableOffset() + 8L * i1, l1[i1]);
        return c;
    }

    private void setL2(long table, int i, long g, long entry) {
        onRemap.accept(g);
        l2Table(table)[i] = entry;
        writeLong(table + 8L * i, entry);
    }

    private void writeLong(long off, long v) {
        file.write(off, ByteBuffer.allocate(8).putLong(v).array());
    }

    /** Drops the references an old L2 entry held (a normal or preallocated-zero cluster, or a compressed run). */
    private void release(long e) {
        if ((e & L2_COMPRESSED) != 0) {
            int x = 62 - (cb - 8);
            long off = (e & ((1L << x) - 1)) & ~511L;
            long sectors = ((e >>> x) & ((1L << (cb - 8)) - 1)) + 1;
            long first = off >>> cb, last = (off + sectors * 512 - 1) >>> cb;
            for (long c = first; c <= last; c++) decRef(c);
            return;
        }
        long host = e & OFFSET_MASK;
        if (host != 0) decRef(host >>> cb);
    }

    private void decRef(long cluster) {
        long r = refcount(cluster);
        if (r > 0) setRefcount(cluster, r - 1);
    }

    /** Makes writes so far durable. */
    public synchronized void flush() {
        if (file.writable) file.sync();
    }

    // ------------------------------------------------------------------ refcounts

    /** The refcount of host cluster {@code c}. */
    public synchronized long refcount(long c) {
        long bi = c / epb;
        if (bi >= refTable.length) return 0;
        long bo = refTable[(int) bi] & ~511L;
        if (bo == 0) return 0;
        return getBits(refBlock(bo), c % epb);
    }

    private byte[] refBlock(long off) {
        byte[] b = refCache.get(off);
        if (b == null) {
            if (off + cs > fileSize) throw new Qcow2FormatException(file.path + ": refcount block at " + off + " lies past the end of the file (" + fileSize + " bytes)");
            b = file.read(off, cs);
            refCache.put(off, b);
        }
        return b;
    }

    private void setRefcount(long c, long v) {
        long bi = c / epb;
        long bo = refTable[(int) bi] & ~511L;
        byte[] b = refBlock(bo);
        long idx = c % epb;
        setBits(b, idx, v);
        int bytes = Math.max(1, refBits / 8);
        int at = (int) (idx * refBits / 8);
        file.write(bo + at, b, at, bytes);
    }

    private long getBits(byte[] b, long idx) {
        if (refBits >= 8) {
            int n = refBits / 8, at = (int) (idx * n);
            long v = 0;
            for (int k = 0; k < n; k++) v = (v << 8) | (b[at + k] & 0xff);
            return v;
        }
        int per = 8 / refBits;   // entries per byte, lowest bits first
        int shift = (int) (idx % per) * refBits;
        return ((b[(int) (idx / per)] & 0xff) >>> shift) & ((1 << refBits) - 1);
    }

    private void setBits(byte[] b, long idx, long v) {
        if (refBits >= 8) {
            int n = refBits / 8, at = (int) (idx * n);
            for (int k = n - 1; k >= 0; k--) {
                b[at + k] = (byte) v;
                v >>>= 8;
            }
            return;
        }
        int per = 8 / refBits;
        int shift = (int) (idx % per) * refBits;
        int mask = ((1 << refBits) - 1) << shift;
        int i = (int) (idx / per);
        b[i] = (byte) ((b[i] & ~mask) | (((int) v << shift) & mask));
    }

    /** A free cluster with refcount 1, its refcount already on disk; returns its byte offset. */
    private long allocCluster() {
        while (true) {
            long c = cursor;
            long bi = c / epb;
            if (bi >= refTable.length) {
                growRefTable();
                continue;
            }
            if ((refTable[(int) bi] & ~511L) == 0) {
                // a new refcount block in the first free cluster, counting itself
                byte[] blk = new byte[cs];
                setBits(blk, c % epb, 1);
                file.write(c << cb, blk);
                fileSize = Math.max(fileSize, (c + 1) << cb);
                refCache.put(c << cb, blk);
                refTable[(int) bi] = c << cb;
                writeLong(rtOffset + 8 * bi, c << cb);
                cursor = c + 1;
                continue;
            }
            cursor = c + 1;
            if (refcount(c) != 0) continue;   // in use past the end of the file: leave it
            setRefcount(c, 1);
            return c << cb;
        }
    }

    /**
     * Moves the refcount table to a table twice the size at the end of the file, with new
     * refcount blocks for the clusters the move itself takes; the header points at it only
     * once it is complete, and the old table is released after.
     */
    private void growRefTable() {
        int oldN = refTable.length;
        long newN = Math.max((long) oldN * 2, cs / 8);
        long start = cursor;
        long tc, k = 0, end;
        while (true) {
            tc = Math.ceilDiv(newN * 8, (long) cs);
            end = start + tc + k;
            long blocks = Math.ceilDiv(end, epb);
            if (blocks > newN) {
                newN = blocks * 2;
                continue;
            }
            long missing = 0;
            for (long bi = 0; bi < blocks; bi++) if (bi >= oldN || (refTable[(int) bi] & ~511L) == 0) missing++;
            if (missing == k) break;
            k = missing;
        }
        if (newN > MAX_L1) throw new IllegalStateException(file.path + ": refcount table would exceed " + MAX_L1 + " entries");
        long[] nt = java.util.Arrays.copyOf(refTable, (int) newN);
        long next = start + tc;
        Map<Long, byte[]> fresh = new LinkedHashMap<>();
        for (long bi = 0; bi < Math.ceilDiv(end, epb); bi++) {
            if ((nt[(int) bi] & ~511L) != 0) continue;
            nt[(int) bi] = next << cb;
            fresh.put(bi, new byte[cs]);
            next++;
        }
        for (long c = start; c < end; c++) {
            byte[] b = fresh.get(c / epb);
            if (b != null) setBits(b, c % epb, 1);
        }
        for (var en : fresh.entrySet()) {
            long at = nt[(int) (long) en.getKey()];
            file.write(at, en.getValue());
            refCache.put(at, en.getValue());
        }
        long oldOffset = rtOffset;
        int oldClusters = (int) Math.ceilDiv(oldN * 8L, (long) cs);
        refTable = nt;   // existing blocks count the new table's clusters that fall in their range
        for (long c = start; c < end; c++) if (!fresh.containsKey(c / epb)) setRefcount(c, 1);
        ByteBuffer tb = ByteBuffer.allocate((int) (tc * cs));
        for (long v : nt) tb.putLong(v);
        file.write(start << cb, tb.array());
        fileSize = Math.max(fileSize, end << cb);
        ByteBuffer hb = ByteBuffer.allocate(12).putLong(start << cb).putInt((int) tc);
        file.write(Qcow2Header.offsetOf("refcount_table_offset"), hb.array());
        rtOffset = start << cb;
        cursor = end;
        for (int j = 0; j < oldClusters; j++) decRef((oldOffset >>> cb) + j);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            if (file.writable) file.sync();
        } finally {
            file.close();
            if (backing != null) backing.close();
            arena.close();
        }
    }

    /** A bounded least-recently-used cache of metadata tables by file offset. */
    private static final class LruCache<V> extends LinkedHashMap<Long, V> {
        private final int max;

        LruCache(int max) {
            super(16, 0.75f, true);
            this.max = max;
        }

        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, V> eldest) { return size() > max; }
    }
}
