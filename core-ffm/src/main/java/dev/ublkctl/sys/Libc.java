package dev.ublkctl.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc calls ublkctl needs, as FFM downcalls with errno captured right after the call
 * (so nothing the JVM does in between can clobber it). Every wrapper returns the raw result
 * on success and throws {@link SyscallException} naming the call and its arguments on failure.
 */
public final class Libc {
    private Libc() {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Linker.Option CCS = Linker.Option.captureCallState("errno");
    private static final MemoryLayout CCS_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CCS_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    /** One capture-state buffer per thread: errno is read straight after the call on the same thread. */
    private static final ThreadLocal<MemorySegment> STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CCS_LAYOUT));

    public static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_EXCL = 0200,
            O_TRUNC = 01000, O_APPEND = 02000, O_NONBLOCK = 04000, O_DIRECT = 040000, O_CLOEXEC = 02000000;
    public static final int PROT_READ = 1, PROT_WRITE = 2;
    public static final int MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, MAP_POPULATE = 0x8000;
    public static final int FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2, FALLOC_FL_ZERO_RANGE = 0x10;
    public static final int EFD_CLOEXEC = O_CLOEXEC, EFD_NONBLOCK = O_NONBLOCK;
    public static final MemorySegment MAP_FAILED = MemorySegment.ofAddress(-1L);

    private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... extra) {
        MemorySegment sym = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        Linker.Option[] opts = new Linker.Option[extra.length + 1];
        opts[0] = CCS;
        System.arraycopy(extra, 0, opts, 1, extra.length);
        return LINKER.downcallHandle(sym, fd, opts);
    }

    private static final MethodHandle OPEN = downcall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = downcall("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = downcall("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle PREAD = downcall("pread64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle PWRITE = downcall("pwrite64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle FSYNC = downcall("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FTRUNCATE = downcall("ftruncate64", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FALLOCATE = downcall("fallocate64", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle MMAP = downcall("mmap64", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = downcall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle IOCTL = downcall("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle DUP2 = downcall("dup2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle FCNTL = downcall("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle UMASK = LINKER.downcallHandle(LIBC.find("umask").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle EVENTFD = downcall("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SYSCALL6 = downcall("syscall", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG,
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(LIBC.find("strerror").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final MethodHandle GETPID = LINKER.downcallHandle(LIBC.find("getpid").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETEUID = LINKER.downcallHandle(LIBC.find("geteuid").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle SETSID = downcall("setsid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle SYSCONF = LINKER.downcallHandle(LIBC.find("sysconf").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT));

    private static int errno(MemorySegment st) { return (int) ERRNO.get(st, 0L); }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    /** The exception for a failed call; its message is built only here, off the success path. */
    private static SyscallException fail(MemorySegment st, String call, String args) {
        return new SyscallException(call, args, errno(st));
    }

    /** strerror(3) text for a positive errno. */
    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    public static int open(String path, int flags, int mode) {
        MemorySegment st = STATE.get();
        try (Arena a = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(st, a.allocateFrom(path), flags, mode);
            if (fd == -1) throw fail(st, "open", "\"" + path + "\", 0" + Integer.toOctalString(flags));
            return fd;
        } catch (Throwable t) { throw rethrow(t); }
    }

    public static int open(String path, int flags) { return open(path, flags, 0644); }

    /** Set once {@link #holdStandardDescriptors()} has run: from then on no open can return 0-2. */
    private static volatile boolean standardHeld;

    /** Tests: act as a process that holds its standard descriptors (without touching them). */
    static void refuseStandardCloses(boolean on) { standardHeld = on; }

    /**
     * close(2). In a process that holds its standard descriptors (the daemon) it refuses 0-2: no
     * ublkctl code can own one there, so closing one is a clean-up bug, and it would let the next open
     * reuse the number (a file then gets I/O meant for the descriptor it replaced). A command started
     * with a standard descriptor closed may get 0-2 from open, and closes them as any other.
     */
    public static void close(int fd) {
        if (standardHeld && fd >= 0 && fd <= 2)
            throw new IllegalStateException("refusing to close standard descriptor " + fd + " (a clean-up bug)");
        MemorySegment st = STATE.get();
        try {
            int r = (int) CLOSE.invokeExact(st, fd);
            if (r == -1) throw fail(st, "close", "fd " + fd);
        } catch (Throwable t) { throw rethrow(t); }
    }

    /** dup2(2): makes {@code newFd} refer to what {@code oldFd} does. */
    public static void dup2(int oldFd, int newFd) {
        MemorySegment st = STATE.get();
        try {
            int r = (int) DUP2.invokeExact(st, oldFd, newFd);
            if (r == -1) throw fail(st, "dup2", oldFd + ", " + newFd);
        } catch (Throwable t) { throw rethrow(t); }
    }

    /** Whether {@code fd} is an open descriptor of this process (fcntl F_GETFD). */
    public static boolean isOpen(int fd) {
        MemorySegment st = STATE.get();
        try {
            return (int) FCNTL.invokeExact(st, fd, 1 /* F_GETFD */, 0) != -1;
        } catch (Throwable t) { throw rethrow(t); }
    }

    /** umask(2): sets the process's file mode creation mask, returns the previous one. */
    public static int umask(int mask) {
        try { return (int) UMASK.invokeExact(mask); } catch (Throwable t) { throw rethrow(t); }
    }

    /**
     * Points 0, 1 and 2 at /dev/null where they are closed, and 0 always (a daemon reads no input):
     * then no descriptor the process opens can get a standard number, so no clean-up can ever
     * close one by mistake and no device file can receive what was meant for stdout.
     */
    public static void holdStandardDescriptors() {
        int nul = open("/dev/null", O_RDWR);
        try {
            for (int fd = 0; fd <= 2; fd++) {
                if (fd == nul) continue;
                if (fd == 0 || !isOpen(fd)) dup2(nul, fd);
            }
        } finally {
            if (nul > 2) close(nul);
        }
        standardHeld = true;
    }

    public static long read(int fd, MemorySegment buf, long len) {
        MemorySegment st = STATE.get();
        try {
            long r = (long) READ.invokeExact(st, fd, buf, len);
            if (r == -1) throw fail(st, "read", "fd " + fd + ", " + len + " bytes");
            return r;
        } catch (Throwable t) { throw rethrow(t); }
    }

    public static long write(int fd, MemorySegment buf, long len) {
        MemorySegment st = STATE.get();
        try {
            long r = (long) WRITE.invokeExact(st, fd, buf, len);
            if (r == -1) throw fail(st, "write", "fd " + fd + ", " + len + " bytes");
            return r;
        } catch (Throwable t) { throw rethrow(t); }
    }

    public static long pread(int fd, MemorySegment buf, long len, long off) {
        MemorySegment st = STATE.get();
        try {
            long r = (long) PREAD.invokeExact(st, fd, buf, len, off);
            if (r == -1) throw fail(st, "pread", "fd " + fd + ", " + len + " bytes at " + off);
            return r;
        } catch (Throwable t) { throw rethrow(t); }
    }

    public static long pwrite(int fd, MemorySegment buf, long len, long off) {
        MemorySegment st = STATE.get();
        try {
            long r = (long) PWRITE.invokeExact(st, fd, buf, len, off);
            if (r == -1) throw fail(st, "pwrite", "fd " + fd + ", " + len + " bytes at " + off);
            return r;
        } catch (Throwable t) { throw rethrow(t); }
    }

    public static void fsync(int fd) {
        MemorySegment st = STATE.get();
        try {
            int r = (int) FSYNC.invokeExact(st, fd);
            if (r == -1) throw fail(st, "fsync", "fd " + fd);
        } catch (Throwable t) { throw rethrow(t); }
    }

    public static void ftruncate(int fd, long len) {
        MemorySegment st = STATE.get();
        try {
            int r = (int) FTRUNCATE.invokeExact(st, fd, len);
            if (r == -1) throw fail(st, "ftruncate", "fd " + fd + ", " + len);
        } catch (Throwable t) { throw rethrow(t); }
    }

    public static void fallocate(int fd, int mode, long off, long len) {
        MemorySegment st = STATE.get();
        try {
            int r = (int) FALLOCATE.invokeExact(st, fd, mode, off, len);
            if (r == -1) throw fail(st, "fallocate", "fd " + fd + ", mode " + mode + ", " + len + " bytes at " + off);
        } catch (Throwable t) { throw rethrow(t); }
    }

    /** mmap(2); the returned segment has {@code len} bytes and must be released with {@link #munmap}. */
    public static MemorySegment mmap(MemorySegment addr, long len, int prot, int flags, int fd, long off) {
        MemorySegment st = STATE.get();
        try {
            MemorySegment p = (MemorySegment) MMAP.invokeExact(st, addr, len, prot, flags, fd, off);
            if (p.address() == -1L)
                throw new SyscallException("mmap", len + " bytes, fd " + fd + ", offset 0x" + Long.toHexString(off), errno(st));
            return p.reinterpret(len);
        } catch (Throwable t) { throw rethrow(t); }
    }

    public static void munmap(MemorySegment seg) {
        MemorySegment st = STATE.get();
        try {
            int r = (int) MUNMAP.invokeExact(st, seg, seg.byteSize());
            if (r == -1) throw fail(st, "munmap", seg.byteSize() + " bytes");
        } catch (Throwable t) { throw rethrow(t); }
    }

    /** ioctl(2) with an integer or pointer argument (pass a pointer as its address). */
    public static int ioctl(int fd, long request, long arg) {
        MemorySegment st = STATE.get();
        try {
            int r = (int) IOCTL.invokeExact(st, fd, request, arg);
            if (r == -1) throw fail(st, "ioctl", "fd " + fd + ", 0x" + Long.toHexString(request));
            return (int) r;
        } catch (Throwable t) { throw rethrow(t); }
    }

    /** Adds 1 to an eventfd's counter: wakes whoever waits on it. */
    public static void eventfdSignal(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocate(JAVA_LONG);
            one.set(JAVA_LONG, 0, 1L);
            write(fd, one, 8);
        }
    }

    public static int eventfd(int initval, int flags) {
        MemorySegment st = STATE.get();
        try {
            int r = (int) EVENTFD.invokeExact(st, initval, flags);
            if (r == -1) throw fail(st, "eventfd", initval + ", " + flags);
            return (int) r;
        } catch (Throwable t) { throw rethrow(t); }
    }

    /**
     * A raw system call. Returns the result, or the negated errno if it failed: the caller
     * decides which errors are results (io_uring_enter's EINTR) and which are exceptions.
     */
    public static long syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
        MemorySegment st = STATE.get();
        try {
            long r = (long) SYSCALL6.invokeExact(st, nr, a1, a2, a3, a4, a5, a6);
            return r == -1 ? -errno(st) : r;
        } catch (Throwable t) { throw rethrow(t); }
    }

    public static int getpid() {
        try { return (int) GETPID.invokeExact(); } catch (Throwable t) { throw rethrow(t); }
    }

    public static int geteuid() {
        try { return (int) GETEUID.invokeExact(); } catch (Throwable t) { throw rethrow(t); }
    }

    /** setsid(2): a new session and process group; returns the session id or the negated errno. */
    public static int setsid() {
        MemorySegment st = STATE.get();
        try {
            int r = (int) SETSID.invokeExact(st);
            return r == -1 ? -errno(st) : r;
        } catch (Throwable t) { throw rethrow(t); }
    }

    public static long pageSize() {
        try { return (long) SYSCONF.invokeExact(30 /* _SC_PAGESIZE */); } catch (Throwable t) { throw rethrow(t); }
    }

    /** Number of online CPUs (sysconf _SC_NPROCESSORS_ONLN). */
    public static int onlineCpus() {
        try { return (int) (long) SYSCONF.invokeExact(84); } catch (Throwable t) { throw rethrow(t); }
    }

}
