package dev.ublkctl.ublk.uapi;

/** Constants of {@code <linux/ublk_cmd.h>} that are not commands or feature flags. */
public final class UblkUapi {
    private UblkUapi() {}

    /** FETCH/COMMIT completion results: OK, the WRITE needs NEED_GET_DATA, and abort (-ENODEV: no re-fetch). */
    public static final int IO_RES_OK = 0, IO_RES_NEED_GET_DATA = 1, IO_RES_ABORT = -19;

    /** Device states ({@code ublksrv_ctrl_dev_info.state}). */
    public static final int S_DEV_DEAD = 0, S_DEV_LIVE = 1, S_DEV_QUIESCED = 2, S_DEV_FAIL_IO = 3;

    /** Param types ({@code ublk_params.types}). */
    public static final int PARAM_TYPE_BASIC = 1, PARAM_TYPE_DISCARD = 1 << 1, PARAM_TYPE_DEVT = 1 << 2,
            PARAM_TYPE_ZONED = 1 << 3;

    /** Basic param attributes. */
    public static final int ATTR_READ_ONLY = 1, ATTR_ROTATIONAL = 1 << 1, ATTR_VOLATILE_CACHE = 1 << 2, ATTR_FUA = 1 << 3;

    /** I/O ops ({@code op_flags & 0xff}). */
    public static final int IO_OP_READ = 0, IO_OP_WRITE = 1, IO_OP_FLUSH = 2, IO_OP_DISCARD = 3,
            IO_OP_WRITE_SAME = 4, IO_OP_WRITE_ZEROES = 5;

    /** Descriptor area of queue q is mmapped at {@code CMD_BUF_OFFSET + q * descStride()}. */
    public static final long CMD_BUF_OFFSET = 0;
    /** USER_COPY: pread/pwrite on /dev/ublkcN at this base + (q << 41) + (tag << 25) + offset. */
    public static final long IO_BUF_OFFSET = 0x80000000L;
    public static final int MAX_QUEUE_DEPTH = 4096, IO_BUF_BITS = 25, TAG_OFF = 25, QID_OFF = 41;
    public static final int MAX_NR_QUEUES = 1 << 12;
    /** Largest I/O one tag can carry (UBLK_IO_BUF_BITS). */
    public static final int MAX_IO_BUF_BYTES = 1 << IO_BUF_BITS;
    /** GET_FEATURES payload length (UBLK_FEATURES_LEN). */
    public static final int FEATURES_LEN = 8;

    /** Offset of queue {@code q}'s descriptors: the kernel strides by the largest possible queue. */
    public static long descOffset(int q, long pageSize) {
        return CMD_BUF_OFFSET + q * roundUp((long) MAX_QUEUE_DEPTH * UblkLayouts.IO_DESC.byteSize(), pageSize);
    }

    /** Length the kernel insists on for one queue's descriptor mmap. */
    public static long descLength(int depth, long pageSize) {
        return roundUp((long) depth * UblkLayouts.IO_DESC.byteSize(), pageSize);
    }

    /** USER_COPY file offset of a tag's data. */
    public static long userCopyOffset(int q, int tag) {
        return IO_BUF_OFFSET + ((long) q << QID_OFF) + ((long) tag << TAG_OFF);
    }

    public static String stateName(int state) {
        return switch (state) {
            case S_DEV_DEAD -> "DEAD";
            case S_DEV_LIVE -> "LIVE";
            case S_DEV_QUIESCED -> "QUIESCED";
            case S_DEV_FAIL_IO -> "FAIL_IO";
            default -> "state " + state;
        };
    }

    static long roundUp(long v, long a) { return (v + a - 1) / a * a; }
}
