package dev.ublkctl.uring;

/** The io_uring operations ublkctl issues (values from {@code enum io_uring_op}). */
public enum Opcode {
    NOP(0), READV(1), WRITEV(2), FSYNC(3), READ_FIXED(4), WRITE_FIXED(5), POLL_ADD(6), POLL_REMOVE(7), TIMEOUT(11), FALLOCATE(17),
    READ(22), WRITE(23), URING_CMD(46);

    public final byte code;

    Opcode(int code) { this.code = (byte) code; }
}
