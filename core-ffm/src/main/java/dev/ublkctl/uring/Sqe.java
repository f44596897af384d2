package dev.ublkctl.uring;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.ublkctl.uring.UringLayouts.*;

/**
 * A flyweight over one SQE slot in the mmapped array. {@link IoUring#nextSqe()} positions
 * and zeroes it; the {@code prep*} methods fill the fields for one operation and return
 * {@code this} so the user data can follow: {@code ring.sqe().prepRead(fd, buf, len, off).userData(7)}.
 */
public final class Sqe {
    private final MemorySegment sqes;
    private final int size;
    private long base;

    Sqe(MemorySegment sqes, int size) {
        this.sqes = sqes;
        this.size = size;
    }

    void position(long base) {
        this.base = base;
        sqes.asSlice(base, size).fill((byte) 0);
    }

    private Sqe rw(Opcode op, int fd, long addr, int len, long off) {
        sqes.set(ValueLayout.JAVA_BYTE, base + SQE_OPCODE, op.code);
        sqes.set(ValueLayout.JAVA_INT, base + SQE_FD, fd);
        sqes.set(ValueLayout.JAVA_LONG, base + SQE_OFF, off);
        sqes.set(ValueLayout.JAVA_LONG, base + SQE_ADDR, addr);
        sqes.set(ValueLayout.JAVA_INT, base + SQE_LEN, len);
        return this;
    }

    public Sqe prepNop() { return rw(Opcode.NOP, -1, 0, 0, 0); }

    public Sqe prepRead(int fd, MemorySegment buf, int len, long off) { return rw(Opcode.READ, fd, buf.address(), len, off); }

    public Sqe prepWrite(int fd, MemorySegment buf, int len, long off) { return rw(Opcode.WRITE, fd, buf.address(), len, off); }

    /** READ/WRITE at a raw address (for buffers owned elsewhere, e.g. a VM region). */
    public Sqe prepRead(int fd, long addr, int len, long off) { return rw(Opcode.READ, fd, addr, len, off); }

    public Sqe prepWrite(int fd, long addr, int len, long off) { return rw(Opcode.WRITE, fd, addr, len, off); }

    /** READV/WRITEV: {@code iovecs} points at {@code count} {@code struct iovec}. */
    public Sqe prepReadv(int fd, MemorySegment iovecs, int count, long off) { return rw(Opcode.READV, fd, iovecs.address(), count, off); }

    public Sqe prepWritev(int fd, MemorySegment iovecs, int count, long off) { return rw(Opcode.WRITEV, fd, iovecs.address(), count, off); }

    /** READ_FIXED into a buffer registered at {@code bufIndex}. */
    public Sqe prepReadFixed(int fd, MemorySegment buf, int len, long off, int bufIndex) {
        rw(Opcode.READ_FIXED, fd, buf.address(), len, off);
        sqes.set(ValueLayout.JAVA_SHORT, base + SQE_BUF_INDEX, (short) bufIndex);
        return this;
    }

    public Sqe prepFsync(int fd, int fsyncFlags) {
        rw(Opcode.FSYNC, fd, 0, 0, 0);
        sqes.set(ValueLayout.JAVA_INT, base + SQE_OP_FLAGS, fsyncFlags);
        return this;
    }

    /**
     * TIMEOUT: completes with {@code -ETIME} after the {@code __kernel_timespec} at {@code ts}
     * (16 bytes: seconds, nanoseconds; read by the kernel when it takes the SQE), relative.
     */
    public Sqe prepTimeout(MemorySegment ts) { return rw(Opcode.TIMEOUT, -1, ts.address(), 1, 0); }

    /** FALLOCATE: the kernel takes the length in {@code addr} and the mode in {@code len}. */
    /** One-shot poll of {@code fd} for {@code events} (POLLIN = 1); the CQE's res is the ready mask. */
    public Sqe prepPollAdd(int fd, int events) {
        rw(Opcode.POLL_ADD, fd, 0, 0, 0);
        sqes.set(ValueLayout.JAVA_INT, base + SQE_OP_FLAGS, events);
        return this;
    }

    /** Cancels the poll whose user_data is {@code targetUserData} (it completes with -ECANCELED). */
    public Sqe prepPollRemove(long targetUserData) { return rw(Opcode.POLL_REMOVE, -1, targetUserData, 0, 0); }

    public Sqe prepFallocate(int fd, int mode, long off, long len) { return rw(Opcode.FALLOCATE, fd, len, mode, off); }

    /**
     * URING_CMD with {@code cmdOp} (e.g. an ioctl-encoded ublk command); the payload (at most
     * 16 bytes, or 80 with SQE128) is copied into the SQE's command area.
     */
    public Sqe prepUringCmd(int fd, int cmdOp, MemorySegment payload) {
        long max = size == 128 ? URING_CMD_SIZE : 16;
        if (payload.byteSize() > max)
            throw new IllegalArgumentException("URING_CMD payload of " + payload.byteSize() + " bytes exceeds " + max);
        rw(Opcode.URING_CMD, fd, 0, 0, 0);
        sqes.set(ValueLayout.JAVA_INT, base + SQE_CMD_OP, cmdOp);
        MemorySegment.copy(payload, 0, sqes, base + SQE_CMD, payload.byteSize());
        return this;
    }

    /** The command area of this slot (16 bytes, or 80 with SQE128), for in-place filling. */
    public MemorySegment cmdArea() { return sqes.asSlice(base + SQE_CMD, size == 128 ? URING_CMD_SIZE : 16); }

    public Sqe userData(long ud) {
        sqes.set(ValueLayout.JAVA_LONG, base + SQE_USER_DATA, ud);
        return this;
    }

    public Sqe flags(byte f) {
        sqes.set(ValueLayout.JAVA_BYTE, base + SQE_FLAGS, (byte) (sqes.get(ValueLayout.JAVA_BYTE, base + SQE_FLAGS) | f));
        return this;
    }

    /** Uses registered file {@code index} instead of an fd. */
    public Sqe fixedFile(int index) {
        sqes.set(ValueLayout.JAVA_INT, base + SQE_FD, index);
        return flags(UringConstants.SQE_FIXED_FILE);
    }

}
