package dev.ublkctl.uring;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/** The io_uring UAPI structs ({@code <linux/io_uring.h>}) as named memory layouts. */
public final class UringLayouts {
    private UringLayouts() {}

    public static final StructLayout IO_SQRING_OFFSETS = MemoryLayout.structLayout(
            JAVA_INT.withName("head"), JAVA_INT.withName("tail"), JAVA_INT.withName("ring_mask"),
            JAVA_INT.withName("ring_entries"), JAVA_INT.withName("flags"), JAVA_INT.withName("dropped"),
            JAVA_INT.withName("array"), JAVA_INT.withName("resv1"), JAVA_LONG.withName("user_addr"))
            .withName("io_sqring_offsets");

    public static final StructLayout IO_CQRING_OFFSETS = MemoryLayout.structLayout(
            JAVA_INT.withName("head"), JAVA_INT.withName("tail"), JAVA_INT.withName("ring_mask"),
            JAVA_INT.withName("ring_entries"), JAVA_INT.withName("overflow"), JAVA_INT.withName("cqes"),
            JAVA_INT.withName("flags"), JAVA_INT.withName("resv1"), JAVA_LONG.withName("user_addr"))
            .withName("io_cqring_offsets");

    public static final StructLayout IO_URING_PARAMS = MemoryLayout.structLayout(
            JAVA_INT.withName("sq_entries"), JAVA_INT.withName("cq_entries"), JAVA_INT.withName("flags"),
            JAVA_INT.withName("sq_thread_cpu"), JAVA_INT.withName("sq_thread_idle"), JAVA_INT.withName("features"),
            JAVA_INT.withName("wq_fd"), MemoryLayout.sequenceLayout(3, JAVA_INT).withName("resv"),
            IO_SQRING_OFFSETS.withName("sq_off"), IO_CQRING_OFFSETS.withName("cq_off"))
            .withName("io_uring_params");

    /** The 64-byte SQE; with IORING_SETUP_SQE128 each slot is 128 bytes and {@code cmd} has 80. */
    public static final StructLayout IO_URING_SQE = MemoryLayout.structLayout(
            JAVA_BYTE.withName("opcode"), JAVA_BYTE.withName("flags"), JAVA_SHORT.withName("ioprio"),
            JAVA_INT.withName("fd"),
            // union { __u64 off; __u64 addr2; struct { __u32 cmd_op; __u32 __pad1; }; }
            MemoryLayout.unionLayout(JAVA_LONG.withName("off"),
                    MemoryLayout.structLayout(JAVA_INT.withName("cmd_op"), JAVA_INT.withName("pad1")).withName("cmd")).withName("u1"),
            JAVA_LONG.withName("addr"), JAVA_INT.withName("len"),
            // rw_flags / fsync_flags / uring_cmd_flags / ... share this word
            JAVA_INT.withName("op_flags"),
            JAVA_LONG.withName("user_data"), JAVA_SHORT.withName("buf_index"), JAVA_SHORT.withName("personality"),
            JAVA_INT.withName("file_index"),
            // union { struct { addr3; __pad2[1] }; __u8 cmd[0]; }: the URING_CMD payload starts here
            JAVA_LONG.withName("addr3"), JAVA_LONG.withName("pad2"))
            .withName("io_uring_sqe");

    public static final StructLayout IO_URING_CQE = MemoryLayout.structLayout(
            JAVA_LONG.withName("user_data"), JAVA_INT.withName("res"), JAVA_INT.withName("flags"))
            .withName("io_uring_cqe");

    /** struct iovec. */
    public static final StructLayout IOVEC = MemoryLayout.structLayout(
            JAVA_LONG.withName("iov_base"), JAVA_LONG.withName("iov_len")).withName("iovec");

    static long off(StructLayout l, String... path) {
        MemoryLayout.PathElement[] p = new MemoryLayout.PathElement[path.length];
        for (int i = 0; i < path.length; i++) p[i] = groupElement(path[i]);
        return l.byteOffset(p);
    }

    // SQE field offsets, derived from the layout once.
    static final long SQE_OPCODE = off(IO_URING_SQE, "opcode"), SQE_FLAGS = off(IO_URING_SQE, "flags"),
            SQE_IOPRIO = off(IO_URING_SQE, "ioprio"), SQE_FD = off(IO_URING_SQE, "fd"),
            SQE_OFF = off(IO_URING_SQE, "u1", "off"), SQE_CMD_OP = off(IO_URING_SQE, "u1", "cmd", "cmd_op"),
            SQE_ADDR = off(IO_URING_SQE, "addr"), SQE_LEN = off(IO_URING_SQE, "len"),
            SQE_OP_FLAGS = off(IO_URING_SQE, "op_flags"), SQE_USER_DATA = off(IO_URING_SQE, "user_data"),
            SQE_BUF_INDEX = off(IO_URING_SQE, "buf_index"), SQE_FILE_INDEX = off(IO_URING_SQE, "file_index"),
            SQE_CMD = off(IO_URING_SQE, "addr3");
    static final long CQE_USER_DATA = off(IO_URING_CQE, "user_data"), CQE_RES = off(IO_URING_CQE, "res"),
            CQE_FLAGS = off(IO_URING_CQE, "flags");

    /** Bytes of command payload in an SQE128 slot. */
    public static final int URING_CMD_SIZE = 80;
}
