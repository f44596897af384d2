package dev.ublkctl.ublk;

/**
 * Block operations as the ublk driver encodes them in {@code ublksrv_io_desc.op_flags & 0xff}
 * ({@code UBLK_IO_OP_*} in {@code <linux/ublk_cmd.h>}).
 */
public enum IoOp {
    READ(0), WRITE(1), FLUSH(2), DISCARD(3), WRITE_SAME(4), WRITE_ZEROES(5);

    /** The kernel's op code. */
    public final int code;

    IoOp(int code) { this.code = code; }

    private static final IoOp[] BY_CODE = {READ, WRITE, FLUSH, DISCARD, WRITE_SAME, WRITE_ZEROES};

    /** The op for a kernel op code, or {@code null} for one ublkctl does not serve (zoned ops). */
    public static IoOp ofCode(int code) { return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null; }

    /** Whether the op moves data through the I/O buffer. */
    public boolean hasData() { return this == READ || this == WRITE; }
}
