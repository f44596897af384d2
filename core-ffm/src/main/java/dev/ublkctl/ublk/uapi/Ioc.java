package dev.ublkctl.ublk.uapi;

/**
 * Linux {@code _IOC} request encoding (asm-generic/ioctl.h, used by x86_64 and aarch64):
 * direction in bits 30-31, size in bits 16-29, type in bits 8-15, number in bits 0-7.
 * ublk encodes its io_uring command opcodes this way since 6.4 ({@code UBLK_F_CMD_IOCTL_ENCODE}).
 */
public final class Ioc {
    private Ioc() {}

    public static final int NONE = 0, WRITE = 1, READ = 2;

    public static int ioc(int dir, char type, int nr, long size) {
        if (nr < 0 || nr > 0xff) throw new IllegalArgumentException("ioctl number out of range: " + nr);
        if (size < 0 || size >= (1 << 14)) throw new IllegalArgumentException("ioctl size out of range: " + size);
        return (dir << 30) | ((int) size << 16) | ((type & 0xff) << 8) | nr;
    }

    /** {@code _IOWR(type, nr, size)}. */
    public static int iowr(char type, int nr, long size) { return ioc(READ | WRITE, type, nr, size); }

    public static int nr(int request) { return request & 0xff; }

    public static int size(int request) { return (request >>> 16) & 0x3fff; }

    public static int dir(int request) { return request >>> 30; }
}
