package dev.ublkctl.sys;

/** System call numbers ublkctl calls directly (no libc wrapper exists for them). */
public final class Syscalls {
    private Syscalls() {}

    private static final boolean AARCH64 = System.getProperty("os.arch").equals("aarch64");

    /** bpf(2): 321 on x86_64, 280 on aarch64. */
    public static final long BPF = AARCH64 ? 280 : 321;
    /** fcntl(2) (the raw call: OFD locks take a pointer, and libc's fcntl is variadic): 72 on x86_64, 25 on aarch64. */
    public static final long FCNTL = AARCH64 ? 25 : 72;
    /** io_uring_setup/enter/register share numbers on every architecture. */
    public static final long IO_URING_SETUP = 425, IO_URING_ENTER = 426, IO_URING_REGISTER = 427;
}
