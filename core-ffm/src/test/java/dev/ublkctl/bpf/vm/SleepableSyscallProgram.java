package dev.ublkctl.bpf.vm;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Test-only bpf(2) calls the lead's {@code dev.ublkctl.bpf.kernel} API cannot make yet: loading a
 * BPF_PROG_TYPE_SYSCALL program with BPF_F_SLEEPABLE (required for syscall programs) and running it
 * with a context that the kernel writes back into {@code ctx_in}. Offsets are those of
 * {@code union bpf_attr} in include/uapi/linux/bpf.h.
 */
final class SleepableSyscallProgram implements AutoCloseable {
    private static final long SYS_BPF = 321;
    private static final int BPF_PROG_LOAD = 5, BPF_PROG_TEST_RUN = 10;
    private static final int PROG_TYPE_SYSCALL = 31, BPF_F_SLEEPABLE = 1 << 4;
    private static final int ATTR_SIZE = 160;

    private final int fd;

    private SleepableSyscallProgram(int fd) { this.fd = fd; }

    /** Loads; on failure returns null and puts the verifier log in {@code why[0]}. */
    static SleepableSyscallProgram load(byte[] insns, String license, String[] why) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(ATTR_SIZE, 8);
            MemorySegment code = a.allocateFrom(ValueLayout.JAVA_BYTE, insns);
            MemorySegment lic = a.allocateFrom(license);
            int logSize = 1 << 20;
            MemorySegment log = a.allocate(logSize);
            attr.set(ValueLayout.JAVA_INT, 0, PROG_TYPE_SYSCALL);
            attr.set(ValueLayout.JAVA_INT, 4, insns.length / 8);
            attr.set(ValueLayout.JAVA_LONG, 8, code.address());
            attr.set(ValueLayout.JAVA_LONG, 16, lic.address());
            attr.set(ValueLayout.JAVA_INT, 24, 1);                 // log_level
            attr.set(ValueLayout.JAVA_INT, 28, logSize);
            attr.set(ValueLayout.JAVA_LONG, 32, log.address());
            attr.set(ValueLayout.JAVA_INT, 44, BPF_F_SLEEPABLE);   // prog_flags
            long r = Libc.syscall(SYS_BPF, BPF_PROG_LOAD, attr.address(), ATTR_SIZE, 0, 0, 0);
            if (r < 0) {
                String text = log.getString(0);
                why[0] = Errno.name((int) -r) + ": " + text.substring(Math.max(0, text.length() - 2000));
                return null;
            }
            return new SleepableSyscallProgram((int) r);
        }
    }

    /** Runs once on {@code ctx} (updated in place with what the program wrote); returns r0 (u32). */
    long run(byte[] ctx) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(ATTR_SIZE, 8);
            MemorySegment c = a.allocateFrom(ValueLayout.JAVA_BYTE, ctx);
            attr.set(ValueLayout.JAVA_INT, 0, fd);                  // prog_fd
            attr.set(ValueLayout.JAVA_INT, 40, ctx.length);         // ctx_size_in
            attr.set(ValueLayout.JAVA_LONG, 48, c.address());       // ctx_in
            long r = Libc.syscall(SYS_BPF, BPF_PROG_TEST_RUN, attr.address(), ATTR_SIZE, 0, 0, 0);
            if (r < 0) throw new IllegalStateException("BPF_PROG_TEST_RUN failed: " + Errno.name((int) -r));
            MemorySegment.copy(c, ValueLayout.JAVA_BYTE, 0, ctx, 0, ctx.length);
            return attr.get(ValueLayout.JAVA_INT, 4) & 0xffffffffL;
        }
    }

    @Override public void close() { Libc.close(fd); }
}
