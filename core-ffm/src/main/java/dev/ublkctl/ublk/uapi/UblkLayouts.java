package dev.ublkctl.ublk.uapi;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The structs of {@code <linux/ublk_cmd.h>} as named memory layouts. Field offsets used by
 * the drivers are derived from these layouts, never written by hand.
 */
public final class UblkLayouts {
    private UblkLayouts() {}

    /** Control command header, in {@code sqe->cmd} of an SQE128 ring (32 bytes). */
    public static final StructLayout CTRL_CMD = MemoryLayout.structLayout(
            JAVA_INT.withName("dev_id"), JAVA_SHORT.withName("queue_id"), JAVA_SHORT.withName("len"),
            JAVA_LONG.withName("addr"), JAVA_LONG.withName("data"),
            JAVA_SHORT.withName("dev_path_len"), JAVA_SHORT.withName("pad"), JAVA_INT.withName("reserved"))
            .withName("ublksrv_ctrl_cmd");

    /** Device info, ADD_DEV in/out and GET_DEV_INFO out (64 bytes). */
    public static final StructLayout CTRL_DEV_INFO = MemoryLayout.structLayout(
            JAVA_SHORT.withName("nr_hw_queues"), JAVA_SHORT.withName("queue_depth"), JAVA_SHORT.withName("state"),
            JAVA_SHORT.withName("pad0"), JAVA_INT.withName("max_io_buf_bytes"), JAVA_INT.withName("dev_id"),
            JAVA_INT.withName("ublksrv_pid"), JAVA_INT.withName("pad1"), JAVA_LONG.withName("flags"),
            JAVA_LONG.withName("ublksrv_flags"), JAVA_INT.withName("owner_uid"), JAVA_INT.withName("owner_gid"),
            JAVA_LONG.withName("reserved1"), JAVA_LONG.withName("reserved2"))
            .withName("ublksrv_ctrl_dev_info");

    public static final StructLayout PARAM_BASIC = MemoryLayout.structLayout(
            JAVA_INT.withName("attrs"), JAVA_BYTE.withName("logical_bs_shift"), JAVA_BYTE.withName("physical_bs_shift"),
            JAVA_BYTE.withName("io_opt_shift"), JAVA_BYTE.withName("io_min_shift"), JAVA_INT.withName("max_sectors"),
            JAVA_INT.withName("chunk_sectors"), JAVA_LONG.withName("dev_sectors"), JAVA_LONG.withName("virt_boundary_mask"))
            .withName("ublk_param_basic");

    public static final StructLayout PARAM_DISCARD = MemoryLayout.structLayout(
            JAVA_INT.withName("discard_alignment"), JAVA_INT.withName("discard_granularity"),
            JAVA_INT.withName("max_discard_sectors"), JAVA_INT.withName("max_write_zeroes_sectors"),
            JAVA_SHORT.withName("max_discard_segments"), JAVA_SHORT.withName("reserved0"))
            .withName("ublk_param_discard");

    /** Read-only: the char and block device numbers the kernel assigned (GET_PARAMS, 6.3+). */
    public static final StructLayout PARAM_DEVT = MemoryLayout.structLayout(
            JAVA_INT.withName("char_major"), JAVA_INT.withName("char_minor"),
            JAVA_INT.withName("disk_major"), JAVA_INT.withName("disk_minor"))
            .withName("ublk_param_devt");

    public static final StructLayout PARAM_ZONED = MemoryLayout.structLayout(
            JAVA_INT.withName("max_open_zones"), JAVA_INT.withName("max_active_zones"),
            JAVA_INT.withName("max_zone_append_sectors"), MemoryLayout.sequenceLayout(20, JAVA_BYTE).withName("reserved"))
            .withName("ublk_param_zoned");

    /**
     * {@code struct ublk_params} up to the zoned member (6.6..6.14 size, 108 bytes). The kernel
     * copies {@code min(len, its own size)}, so a newer kernel just sees the later members zeroed.
     */
    public static final StructLayout PARAMS = MemoryLayout.structLayout(
            JAVA_INT.withName("len"), JAVA_INT.withName("types"),
            PARAM_BASIC.withName("basic"), PARAM_DISCARD.withName("discard"),
            PARAM_DEVT.withName("devt"), PARAM_ZONED.withName("zoned"))
            .withName("ublk_params");

    /** One request's descriptor in the mmapped per-queue array, indexed by tag (24 bytes). */
    public static final StructLayout IO_DESC = MemoryLayout.structLayout(
            JAVA_INT.withName("op_flags"), JAVA_INT.withName("nr_sectors"),
            JAVA_LONG.withName("start_sector"), JAVA_LONG.withName("addr"))
            .withName("ublksrv_io_desc");

    /** I/O command payload (FETCH_REQ, COMMIT_AND_FETCH_REQ, NEED_GET_DATA), 16 bytes. */
    public static final StructLayout IO_CMD = MemoryLayout.structLayout(
            JAVA_SHORT.withName("q_id"), JAVA_SHORT.withName("tag"), JAVA_INT.withName("result"),
            JAVA_LONG.withName("addr"))
            .withName("ublksrv_io_cmd");

    /** Byte offset of a (possibly nested) field. */
    public static long off(StructLayout l, String... path) {
        MemoryLayout.PathElement[] p = new MemoryLayout.PathElement[path.length];
        for (int i = 0; i < path.length; i++) p[i] = groupElement(path[i]);
        return l.byteOffset(p);
    }

    public static final long CMD_DEV_ID = off(CTRL_CMD, "dev_id"), CMD_QUEUE_ID = off(CTRL_CMD, "queue_id"),
            CMD_LEN = off(CTRL_CMD, "len"), CMD_ADDR = off(CTRL_CMD, "addr"), CMD_DATA = off(CTRL_CMD, "data"),
            CMD_DEV_PATH_LEN = off(CTRL_CMD, "dev_path_len");

    public static final long DESC_OP_FLAGS = off(IO_DESC, "op_flags"), DESC_NR_SECTORS = off(IO_DESC, "nr_sectors"),
            DESC_START_SECTOR = off(IO_DESC, "start_sector"), DESC_ADDR = off(IO_DESC, "addr");

    public static final long IOCMD_Q_ID = off(IO_CMD, "q_id"), IOCMD_TAG = off(IO_CMD, "tag"),
            IOCMD_RESULT = off(IO_CMD, "result"), IOCMD_ADDR = off(IO_CMD, "addr");
}
