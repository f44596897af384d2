package dev.ublkctl.target.qcow2;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The qcow2 header (QEMU's docs/interop/qcow2.rst) as plain data, with the header extensions
 * this code reads. Every field is big-endian on disk. Version 2 images stop at
 * {@code snapshots_offset} (72 bytes) and imply refcount order 4 and no feature bits.
 */
public record Qcow2Header(int version, long backingFileOffset, int backingFileSize, int clusterBits, long size,
                          int cryptMethod, int l1Size, long l1TableOffset, long refcountTableOffset,
                          int refcountTableClusters, int nbSnapshots, long snapshotsOffset,
                          long incompatibleFeatures, long compatibleFeatures, long autoclearFeatures,
                          int refcountOrder, int headerLength, int compressionType,
                          String backingFile, String backingFormat, List<Long> extensionTypes) {

    public static final int MAGIC = 0x514649fb;   // "QFI\xfb"
    public static final int V2_LENGTH = 72, V3_MIN_LENGTH = 104;

    /** Incompatible feature bits. */
    public static final long INCOMPAT_DIRTY = 1, INCOMPAT_CORRUPT = 2, INCOMPAT_DATA_FILE = 4,
            INCOMPAT_COMPRESSION = 8, INCOMPAT_EXTL2 = 16;

    /** Header extension types. */
    static final long EXT_END = 0, EXT_BACKING_FORMAT = 0xe2792acaL, EXT_FEATURE_NAMES = 0x6803f857L,
            EXT_BITMAPS = 0x23852875L, EXT_CRYPTO = 0x0537be77L, EXT_DATA_FILE = 0x44415441L;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** The on-disk header of a version 3 image (a version 2 header is its first 72 bytes). */
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U32.withName("magic"), U32.withName("version"),
            U64.withName("backing_file_offset"), U32.withName("backing_file_size"),
            U32.withName("cluster_bits"), U64.withName("size"), U32.withName("crypt_method"),
            U32.withName("l1_size"), U64.withName("l1_table_offset"),
            U64.withName("refcount_table_offset"), U32.withName("refcount_table_clusters"),
            U32.withName("nb_snapshots"), U64.withName("snapshots_offset"),
            U64.withName("incompatible_features"), U64.withName("compatible_features"),
            U64.withName("autoclear_features"), U32.withName("refcount_order"),
            U32.withName("header_length"), ValueLayout.JAVA_BYTE.withName("compression_type"),
            MemoryLayout.paddingLayout(7));

    static long offsetOf(String field) { return LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static VarHandle h(String f) {
        return LAYOUT.varHandle(MemoryLayout.PathElement.groupElement(f));
    }

    private static final VarHandle MAGIC_H = h("magic"), VERSION = h("version"), BF_OFF = h("backing_file_offset"),
            BF_SIZE = h("backing_file_size"), CLUSTER_BITS = h("cluster_bits"), SIZE = h("size"),
            CRYPT = h("crypt_method"), L1_SIZE = h("l1_size"), L1_OFF = h("l1_table_offset"),
            RT_OFF = h("refcount_table_offset"), RT_CLUSTERS = h("refcount_table_clusters"),
            NB_SNAP = h("nb_snapshots"), SNAP_OFF = h("snapshots_offset"), INCOMPAT = h("incompatible_features"),
            COMPAT = h("compatible_features"), AUTOCLEAR = h("autoclear_features"), RC_ORDER = h("refcount_order"),
            HDR_LEN = h("header_length"), COMP_TYPE = h("compression_type");

    public int clusterSize() { return 1 << clusterBits; }

    /** Bits per refcount entry. */
    public int refcountBits() { return 1 << refcountOrder; }

    /**
     * Parses the header of {@code file} ({@code fileSize} bytes long, read from its start), checking
     * everything that would make the rest of the image unreadable. {@code name} is how errors name it.
     */
    static Qcow2Header read(HostFile file, long fileSize, String name) {
        if (fileSize < V2_LENGTH) throw new Qcow2FormatException(name + ": truncated qcow2 image (" + fileSize + " bytes, the header alone needs 72)");
        byte[] first = file.read(0, (int) Math.min(fileSize, 4096));
        MemorySegment s = MemorySegment.ofArray(java.util.Arrays.copyOf(first, Math.max(first.length, (int) LAYOUT.byteSize())));
        int magic = (int) MAGIC_H.get(s, 0L);
        if (magic != MAGIC) throw new Qcow2FormatException(name + ": not a qcow2 image (no QFI\\xfb magic)");
        int version = (int) VERSION.get(s, 0L);
        if (version != 2 && version != 3) throw new Qcow2FormatException(name + ": qcow2 version " + version + " is not supported (2 and 3 are)");
        int clusterBits = (int) CLUSTER_BITS.get(s, 0L);
        if (clusterBits < 9 || clusterBits > 21)
            throw new Qcow2FormatException(name + ": cluster_bits " + clusterBits + " is out of range (9..21: 512 B to 2 MiB)");
        long incompat = 0, compat = 0, autoclear = 0;
        int refcountOrder = 4, headerLength = V2_LENGTH, compressionType = 0;
        if (version == 3) {
            headerLength = (int) HDR_LEN.get(s, 0L);
            if (headerLength < V3_MIN_LENGTH || headerLength % 8 != 0 || headerLength > first.length)
                throw new Qcow2FormatException(name + ": bad header_length " + headerLength + " for a version 3 image");
            incompat = (long) INCOMPAT.get(s, 0L);
            compat = (long) COMPAT.get(s, 0L);
            autoclear = (long) AUTOCLEAR.get(s, 0L);
            refcountOrder = (int) RC_ORDER.get(s, 0L);
            if (headerLength > V3_MIN_LENGTH) compressionType = Byte.toUnsignedInt((byte) COMP_TYPE.get(s, 0L));
        }
        int crypt = (int) CRYPT.get(s, 0L);
        if (crypt != 0) throw new Qcow2FormatException(name + ": encrypted qcow2 images are not supported");
        if ((incompat & INCOMPAT_CORRUPT) != 0)
            throw new Qcow2FormatException(name + ": the image is marked corrupt; repair it with 'qemu-img check -r all' first");
        if ((incompat & INCOMPAT_DIRTY) != 0)
            throw new Qcow2FormatException(name + ": the image is marked dirty (lazy refcounts not written back); run 'qemu-img check -r all' first");
        if ((incompat & INCOMPAT_DATA_FILE) != 0)
            throw new Qcow2FormatException(name + ": images with an external data file are not supported");
        if ((incompat & INCOMPAT_EXTL2) != 0)
            throw new Qcow2FormatException(name + ": images with extended L2 entries (subclusters) are not supported");
        if ((incompat & INCOMPAT_COMPRESSION) != 0 && compressionType != 0)
            throw new Qcow2FormatException(name + ": compression type " + compressionType + " (zstd) is not supported; only zlib is");
        long unknown = incompat & ~(INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION | INCOMPAT_EXTL2);
        if (unknown != 0) throw new Qcow2FormatException(name + ": unknown incompatible feature bits 0x" + Long.toHexString(unknown));
        if (refcountOrder > 6)
            throw new Qcow2FormatException(name + ": refcount_order " + refcountOrder + " overflows 64-bit refcounts (0..6 allowed)");
        long size = (long) SIZE.get(s, 0L);
        if (size < 0 || size % 512 != 0) throw new Qcow2FormatException(name + ": virtual size " + size + " is not a multiple of 512");
        int l1Size = (int) L1_SIZE.get(s, 0L);
        long l1Off = (long) L1_OFF.get(s, 0L);
        int cs = 1 << clusterBits;
        long l2Entries = cs / 8;
        long needL1 = Math.ceilDiv(Math.ceilDiv(size, (long) cs), l2Entries);
        if (l1Size < 0 || l1Size < needL1)
            throw new Qcow2FormatException(name + ": L1 table of " + Integer.toUnsignedString(l1Size) + " entries is too small for " + size + " bytes");
        if (l1Size > 0 && (l1Off % cs != 0 || l1Off <= 0 || l1Off + 8L * l1Size > fileSize))
            throw new Qcow2FormatException(name + ": L1 table at " + l1Off + " lies past the end of the file (" + fileSize + " bytes) or is misaligned");
        long rtOff = (long) RT_OFF.get(s, 0L);
        int rtClusters = (int) RT_CLUSTERS.get(s, 0L);
        if (rtOff % cs != 0 || rtOff <= 0 || rtClusters <= 0 || rtOff + (long) rtClusters * cs > fileSize)
            throw new Qcow2FormatException(name + ": refcount table at " + rtOff + " (" + rtClusters + " clusters) lies past the end of the file or is misaligned");
        long bfOff = (long) BF_OFF.get(s, 0L);
        int bfSize = (int) BF_SIZE.get(s, 0L);
        String backing = null;
        if (bfOff != 0) {
            if (bfSize <= 0 || bfSize > 1023 || bfOff + bfSize > fileSize)
                throw new Qcow2FormatException(name + ": backing file name at " + bfOff + " (" + bfSize + " bytes) is out of range");
            backing = new String(file.read(bfOff, bfSize), StandardCharsets.UTF_8);
        }
        // header extensions: type, length, data padded to 8, until type 0
        String backingFormat = null;
        List<Long> exts = new ArrayList<>();
        long pos = headerLength;
        long extEnd = Math.min(cs, fileSize);
        while (true) {
            if (pos + 8 > extEnd) throw new Qcow2FormatException(name + ": header extensions run past the first cluster");
            byte[] eh = file.read(pos, 8);
            MemorySegment e = MemorySegment.ofArray(eh);
            long type = Integer.toUnsignedLong(e.get(U32, 0));
            int len = e.get(U32, 4);
            if (type == EXT_END) break;
            if (len < 0 || pos + 8 + len > extEnd) throw new Qcow2FormatException(name + ": header extension 0x" + Long.toHexString(type) + " runs past the first cluster");
            exts.add(type);
            if (type == EXT_BACKING_FORMAT) backingFormat = new String(file.read(pos + 8, len), StandardCharsets.UTF_8);
            if (type == EXT_CRYPTO) throw new Qcow2FormatException(name + ": encrypted qcow2 images are not supported");
            if (type == EXT_DATA_FILE) throw new Qcow2FormatException(name + ": images with an external data file are not supported");
            pos += 8 + ((len + 7L) & ~7L);
        }
        return new Qcow2Header(version, bfOff, bfSize, clusterBits, size, crypt, l1Size, l1Off, rtOff, rtClusters,
                (int) NB_SNAP.get(s, 0L), (long) SNAP_OFF.get(s, 0L), incompat, compat, autoclear, refcountOrder,
                headerLength, compressionType, backing, backingFormat, List.copyOf(exts));
    }
}
