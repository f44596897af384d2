package dev.ublkctl.uring;

/** io_uring constants from {@code <linux/io_uring.h>}. */
public final class UringConstants {
    private UringConstants() {}

    // io_uring_setup flags
    public static final int SETUP_IOPOLL = 1, SETUP_SQPOLL = 1 << 1, SETUP_CQSIZE = 1 << 3, SETUP_CLAMP = 1 << 4,
            SETUP_SUBMIT_ALL = 1 << 7, SETUP_COOP_TASKRUN = 1 << 8, SETUP_SQE128 = 1 << 10, SETUP_CQE32 = 1 << 11,
            SETUP_SINGLE_ISSUER = 1 << 12, SETUP_DEFER_TASKRUN = 1 << 13;
    // features
    public static final int FEAT_SINGLE_MMAP = 1, FEAT_NODROP = 1 << 1, FEAT_EXT_ARG = 1 << 8;
    // mmap offsets
    static final long OFF_SQ_RING = 0L, OFF_CQ_RING = 0x8000000L, OFF_SQES = 0x10000000L;
    // io_uring_enter flags
    public static final int ENTER_GETEVENTS = 1;
    // io_uring_register opcodes
    public static final int REGISTER_BUFFERS = 0, UNREGISTER_BUFFERS = 1, REGISTER_FILES = 2, UNREGISTER_FILES = 3,
            REGISTER_EVENTFD = 4, UNREGISTER_EVENTFD = 5;
    // sqe flags
    public static final byte SQE_FIXED_FILE = 1, SQE_IO_DRAIN = 2, SQE_IO_LINK = 4, SQE_IO_HARDLINK = 8, SQE_ASYNC = 16;
    // fsync flags
    public static final int FSYNC_DATASYNC = 1;
}
