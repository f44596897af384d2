package dev.ublkctl.bpf.kernel;

import dev.ublkctl.bpf.object.ProgramType;
import dev.ublkctl.sys.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

import static dev.ublkctl.bpf.kernel.Bpf.*;

/** A program loaded into the kernel, owned through its fd. */
public final class KernelProgram implements AutoCloseable {
    private final int fd;
    private final ProgramType type;
    private final String name;
    private final String verifierLog;
    private boolean closed;

    KernelProgram(int fd, ProgramType type, String name, String verifierLog) {
        this.fd = fd;
        this.type = type;
        this.name = name;
        this.verifierLog = verifierLog;
    }

    public int fd() { return fd; }
    public ProgramType type() { return type; }
    public String name() { return name; }

    /** The verifier log of a successful load (only when loaded with a log level). */
    public String verifierLog() { return verifierLog; }

    /** Input of BPF_PROG_TEST_RUN: packet data and/or context, repeat count. */
    public record TestRunInput(byte[] dataIn, int dataOutSize, byte[] ctxIn, int ctxOutSize, int repeat) {
        public static TestRunInput ofData(byte[] data, int repeat) {
            return new TestRunInput(data, data.length + 256, null, 0, repeat);
        }

        public static TestRunInput ofContext(byte[] ctx, int repeat) {
            return new TestRunInput(null, 0, ctx, ctx.length, repeat);
        }
    }

    /** Output of BPF_PROG_TEST_RUN: r0, data and context written back, mean ns per run. */
    public record TestRunResult(long retval, byte[] dataOut, byte[] ctxOut, long durationNs) {}

    /**
     * Runs the program in the kernel on the given input (BPF_PROG_TEST_RUN). SYSCALL programs
     * run once and write their context back in place (the kernel refuses ctx_out and repeat for
     * them); the result's {@code ctxOut} is that context.
     */
    public TestRunResult testRun(TestRunInput in) {
        if (type == ProgramType.SYSCALL) return testRunSyscall(in);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = attr(a);
            StructLayout l = BpfAttr.TEST_RUN;
            putInt(attr, l, "prog_fd", fd);
            putInt(attr, l, "repeat", Math.max(in.repeat(), 0));
            MemorySegment dataOut = MemorySegment.NULL, ctxOut = MemorySegment.NULL;
            if (in.dataIn() != null) {
                putInt(attr, l, "data_size_in", in.dataIn().length);
                putLong(attr, l, "data_in", a.allocateFrom(ValueLayout.JAVA_BYTE, in.dataIn()).address());
            }
            if (in.dataOutSize() > 0) {
                dataOut = a.allocate(in.dataOutSize());
                putInt(attr, l, "data_size_out", in.dataOutSize());
                putLong(attr, l, "data_out", dataOut.address());
            }
            if (in.ctxIn() != null) {
                putInt(attr, l, "ctx_size_in", in.ctxIn().length);
                putLong(attr, l, "ctx_in", a.allocateFrom(ValueLayout.JAVA_BYTE, in.ctxIn()).address());
            }
            if (in.ctxOutSize() > 0) {
                ctxOut = a.allocate(in.ctxOutSize());
                putInt(attr, l, "ctx_size_out", in.ctxOutSize());
                putLong(attr, l, "ctx_out", ctxOut.address());
            }
            check(PROG_TEST_RUN, attr, "program \"" + name + "\" fd " + fd);
            long retval = Integer.toUnsignedLong(getInt(attr, l, "retval"));
            byte[] data = in.dataOutSize() > 0 ? dataOut.asSlice(0, getInt(attr, l, "data_size_out")).toArray(ValueLayout.JAVA_BYTE) : null;
            byte[] ctx = in.ctxOutSize() > 0 ? ctxOut.asSlice(0, getInt(attr, l, "ctx_size_out")).toArray(ValueLayout.JAVA_BYTE) : null;
            return new TestRunResult(retval, data, ctx, Integer.toUnsignedLong(getInt(attr, l, "duration")));
        }
    }

    private TestRunResult testRunSyscall(TestRunInput in) {
        if (in.dataIn() != null) throw new IllegalArgumentException("SYSCALL programs take a context, not packet data");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = attr(a);
            StructLayout l = BpfAttr.TEST_RUN;
            putInt(attr, l, "prog_fd", fd);
            MemorySegment ctx = in.ctxIn() == null ? MemorySegment.NULL : a.allocateFrom(ValueLayout.JAVA_BYTE, in.ctxIn());
            if (in.ctxIn() != null) {
                putInt(attr, l, "ctx_size_in", in.ctxIn().length);
                putLong(attr, l, "ctx_in", ctx.address());
            }
            long t0 = System.nanoTime();
            check(PROG_TEST_RUN, attr, "program \"" + name + "\" fd " + fd);
            long ns = System.nanoTime() - t0;
            long retval = Integer.toUnsignedLong(getInt(attr, l, "retval"));
            return new TestRunResult(retval, null, in.ctxIn() == null ? null : ctx.toArray(ValueLayout.JAVA_BYTE), ns);
        }
    }

    /** What the kernel says about this program (run counts need {@link Bpf#enableStats()}). */
    public record Info(int id, int type, String name, String tag, int xlatedLen, int jitedLen, long runCount,
                       long runTimeNs, int verifiedInsns) {}

    public Info info() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment i = a.allocate(BpfAttr.PROG_INFO);
            objInfo(fd, i, a);
            StructLayout l = BpfAttr.PROG_INFO;
            StringBuilder tag = new StringBuilder();
            for (int k = 0; k < 8; k++) tag.append(String.format("%02x", i.get(ValueLayout.JAVA_BYTE, BpfAttr.off(l, "tag") + k)));
            return new Info(getInt(i, l, "id"), getInt(i, l, "type"), cstring(i, BpfAttr.off(l, "name"), 16), tag.toString(),
                    getInt(i, l, "xlated_prog_len"), getInt(i, l, "jited_prog_len"),
                    i.get(ValueLayout.JAVA_LONG, BpfAttr.off(l, "run_cnt")),
                    i.get(ValueLayout.JAVA_LONG, BpfAttr.off(l, "run_time_ns")), getInt(i, l, "verified_insns"));
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Libc.close(fd);
        }
    }
}
