package dev.ublkctl.ublk.uapi;

import java.lang.foreign.MemorySegment;

import static dev.ublkctl.ublk.uapi.UblkLayouts.PARAMS;
import static dev.ublkctl.ublk.uapi.UblkLayouts.off;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * {@code struct ublk_params} as plain data: the basic part (always sent), discard when the
 * device serves DISCARD/WRITE_ZEROES, and the device numbers the kernel reports back.
 */
public record UblkParams(Basic basic, Discard discard, Devt devt) {

    /** {@code struct ublk_param_basic}. */
    public record Basic(int attrs, int logicalBsShift, int physicalBsShift, int ioOptShift, int ioMinShift,
                        int maxSectors, int chunkSectors, long devSectors, long virtBoundaryMask) {
        public static Basic of(long devSectors, int logicalBsShift, int maxSectors) {
            return new Basic(0, logicalBsShift, logicalBsShift, logicalBsShift, logicalBsShift, maxSectors, 0, devSectors, 0);
        }
    }

    /** {@code struct ublk_param_discard}. */
    public record Discard(int alignment, int granularity, int maxDiscardSectors, int maxWriteZeroesSectors,
                          int maxDiscardSegments) {}

    /** {@code struct ublk_param_devt} (read-only; only in GET_PARAMS answers). */
    public record Devt(int charMajor, int charMinor, int diskMajor, int diskMinor) {}

    /** A generous per-request discard limit (the kernel splits larger discards). */
    public static final int MAX_DISCARD_SECTORS = 1 << 16;

    public UblkParams {
        if (basic == null) throw new IllegalArgumentException("the basic parameters are mandatory");
    }

    public static UblkParams basic(Basic b) { return new UblkParams(b, null, null); }

    public UblkParams withDiscard(Discard d) { return new UblkParams(basic, d, devt); }

    public int types() {
        return UblkUapi.PARAM_TYPE_BASIC | (discard != null ? UblkUapi.PARAM_TYPE_DISCARD : 0)
                | (devt != null ? UblkUapi.PARAM_TYPE_DEVT : 0);
    }

    private static final long LEN = off(PARAMS, "len"), TYPES = off(PARAMS, "types"),
            B_ATTRS = off(PARAMS, "basic", "attrs"), B_LBS = off(PARAMS, "basic", "logical_bs_shift"),
            B_PBS = off(PARAMS, "basic", "physical_bs_shift"), B_OPT = off(PARAMS, "basic", "io_opt_shift"),
            B_MIN = off(PARAMS, "basic", "io_min_shift"), B_MAXS = off(PARAMS, "basic", "max_sectors"),
            B_CHUNK = off(PARAMS, "basic", "chunk_sectors"), B_DEVS = off(PARAMS, "basic", "dev_sectors"),
            B_VBM = off(PARAMS, "basic", "virt_boundary_mask"),
            D_ALIGN = off(PARAMS, "discard", "discard_alignment"), D_GRAN = off(PARAMS, "discard", "discard_granularity"),
            D_MAXD = off(PARAMS, "discard", "max_discard_sectors"),
            D_MAXWZ = off(PARAMS, "discard", "max_write_zeroes_sectors"),
            D_SEGS = off(PARAMS, "discard", "max_discard_segments"),
            T_CMAJ = off(PARAMS, "devt", "char_major"), T_CMIN = off(PARAMS, "devt", "char_minor"),
            T_DMAJ = off(PARAMS, "devt", "disk_major"), T_DMIN = off(PARAMS, "devt", "disk_minor");

    /** Writes the SET_PARAMS form (devt is never sent: the kernel owns it). */
    public void writeTo(MemorySegment s) {
        s.asSlice(0, PARAMS.byteSize()).fill((byte) 0);
        s.set(JAVA_INT, LEN, (int) PARAMS.byteSize());
        s.set(JAVA_INT, TYPES, types() & ~UblkUapi.PARAM_TYPE_DEVT);
        s.set(JAVA_INT, B_ATTRS, basic.attrs());
        s.set(JAVA_BYTE, B_LBS, (byte) basic.logicalBsShift());
        s.set(JAVA_BYTE, B_PBS, (byte) basic.physicalBsShift());
        s.set(JAVA_BYTE, B_OPT, (byte) basic.ioOptShift());
        s.set(JAVA_BYTE, B_MIN, (byte) basic.ioMinShift());
        s.set(JAVA_INT, B_MAXS, basic.maxSectors());
        s.set(JAVA_INT, B_CHUNK, basic.chunkSectors());
        s.set(JAVA_LONG, B_DEVS, basic.devSectors());
        s.set(JAVA_LONG, B_VBM, basic.virtBoundaryMask());
        if (discard != null) {
            s.set(JAVA_INT, D_ALIGN, discard.alignment());
            s.set(JAVA_INT, D_GRAN, discard.granularity());
            s.set(JAVA_INT, D_MAXD, discard.maxDiscardSectors());
            s.set(JAVA_INT, D_MAXWZ, discard.maxWriteZeroesSectors());
            s.set(JAVA_SHORT, D_SEGS, (short) discard.maxDiscardSegments());
        }
    }

    /** Reads a GET_PARAMS answer; members whose type bit is clear come back null. */
    public static UblkParams readFrom(MemorySegment s) {
        int types = s.get(JAVA_INT, TYPES);
        Basic b = new Basic(s.get(JAVA_INT, B_ATTRS), s.get(JAVA_BYTE, B_LBS), s.get(JAVA_BYTE, B_PBS),
                s.get(JAVA_BYTE, B_OPT), s.get(JAVA_BYTE, B_MIN), s.get(JAVA_INT, B_MAXS), s.get(JAVA_INT, B_CHUNK),
                s.get(JAVA_LONG, B_DEVS), s.get(JAVA_LONG, B_VBM));
        Discard d = (types & UblkUapi.PARAM_TYPE_DISCARD) == 0 ? null : new Discard(s.get(JAVA_INT, D_ALIGN),
                s.get(JAVA_INT, D_GRAN), s.get(JAVA_INT, D_MAXD), s.get(JAVA_INT, D_MAXWZ),
                Short.toUnsignedInt(s.get(JAVA_SHORT, D_SEGS)));
        Devt t = (types & UblkUapi.PARAM_TYPE_DEVT) == 0 ? null : new Devt(s.get(JAVA_INT, T_CMAJ),
                s.get(JAVA_INT, T_CMIN), s.get(JAVA_INT, T_DMAJ), s.get(JAVA_INT, T_DMIN));
        return new UblkParams(b, d, t);
    }
}
