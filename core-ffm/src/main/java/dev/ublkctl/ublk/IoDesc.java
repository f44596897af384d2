package dev.ublkctl.ublk;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@code struct ublksrv_io_desc} (24 bytes, one per tag, in the queue's descriptor array):
 * {@code op_flags} (op in bits 0-7, flags above), {@code nr_sectors} (512-byte sectors),
 * {@code start_sector}, {@code addr} (the server's data buffer for the tag).
 * Static accessors read and write a descriptor array at a tag's slot.
 */
public final class IoDesc {
    private IoDesc() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("op_flags"), JAVA_INT.withName("nr_sectors"),
            JAVA_LONG.withName("start_sector"), JAVA_LONG.withName("addr")).withName("ublksrv_io_desc");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OP_FLAGS = LAYOUT.byteOffset(groupElement("op_flags"));
    public static final long NR_SECTORS = LAYOUT.byteOffset(groupElement("nr_sectors"));
    public static final long START_SECTOR = LAYOUT.byteOffset(groupElement("start_sector"));
    public static final long ADDR = LAYOUT.byteOffset(groupElement("addr"));

    /** Sector size of {@code nr_sectors}/{@code start_sector}, whatever the logical block size. */
    public static final int SECTOR_SHIFT = 9;

    /** I/O flags in op_flags (bits 8..31). */
    public static final int F_FAILFAST_DEV = 1 << 8, F_FAILFAST_TRANSPORT = 1 << 9, F_FAILFAST_DRIVER = 1 << 10,
            F_META = 1 << 11, F_FUA = 1 << 13, F_NOUNMAP = 1 << 15, F_SWAP = 1 << 16;

    public static int opFlags(MemorySegment descs, int tag) { return descs.get(ValueLayout.JAVA_INT, tag * SIZE + OP_FLAGS); }

    public static int op(MemorySegment descs, int tag) { return opFlags(descs, tag) & 0xff; }

    public static int nrSectors(MemorySegment descs, int tag) { return descs.get(ValueLayout.JAVA_INT, tag * SIZE + NR_SECTORS); }

    public static long startSector(MemorySegment descs, int tag) { return descs.get(ValueLayout.JAVA_LONG, tag * SIZE + START_SECTOR); }

    public static long addr(MemorySegment descs, int tag) { return descs.get(ValueLayout.JAVA_LONG, tag * SIZE + ADDR); }

    public static void set(MemorySegment descs, int tag, int opFlags, int nrSectors, long startSector, long addr) {
        long b = tag * SIZE;
        descs.set(ValueLayout.JAVA_INT, b + OP_FLAGS, opFlags);
        descs.set(ValueLayout.JAVA_INT, b + NR_SECTORS, nrSectors);
        descs.set(ValueLayout.JAVA_LONG, b + START_SECTOR, startSector);
        descs.set(ValueLayout.JAVA_LONG, b + ADDR, addr);
    }
}
