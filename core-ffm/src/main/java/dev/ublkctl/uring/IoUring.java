package dev.ublkctl.uring;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.Libc;
import dev.ublkctl.sys.SyscallException;
import dev.ublkctl.sys.Syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

import static dev.ublkctl.uring.UringLayouts.*;

/**
 * An io_uring instance set up with raw {@code io_uring_setup(2)}, its rings mmapped.
 *
 * <p>Single issuer: one thread prepares SQEs and reaps CQEs, as a ublk queue thread does.
 * Ordering follows the kernel's contract: SQEs are written, then the SQ tail is published
 * with a release store; the CQ tail is read with an acquire load before CQEs are read, and
 * the CQ head is published with a release store after they are consumed.
 */
public final class IoUring implements AutoCloseable {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final int fd;
    private final int flags;
    private final int features;
    private final int sqEntries, cqEntries;
    private final int sqeSize, cqeSize;
    private final MemorySegment sqRing, cqRing, sqes;
    private final long sqHeadOff, sqTailOff, sqArrayOff, cqHeadOff, cqTailOff, cqesOff;
    private final int sqMask, cqMask;
    private final Sqe sqe;
    private final Arena arena = Arena.ofShared();
    /** Tail of SQEs prepared but not yet published to the kernel. */
    private int sqeTail;
    /** Last SQ tail published to the kernel. */
    private int sqTailPublished;
    private boolean closed;
    private int registeredFiles;

    /** Ring options: entries, setup flags and an optional CQ size. */
    public record Params(int entries, int flags, int cqEntries) {
        public Params(int entries) { this(entries, 0, 0); }
        public Params withFlags(int f) { return new Params(entries, flags | f, cqEntries); }
    }

    /**
     * 8 bytes for reads whose data nobody looks at (the counter of an eventfd wake-up). Never
     * freed: a read still armed when its ring is closed can complete after that (the kernel
     * cancels a closed ring's requests asynchronously, and an eventfd read that a concurrent
     * write completes writes its buffer), so such a buffer must outlive every ring.
     */
    public static final MemorySegment DISCARD_8 = Arena.global().allocate(8, 8);

    public static IoUring create(int entries) { return new IoUring(new Params(entries)); }

    public static IoUring create(Params p) { return new IoUring(p); }

    private IoUring(Params p) {
        if (p.entries() <= 0 || p.entries() > 32768)  // the kernel rounds up to a power of two
            throw new IllegalArgumentException("io_uring entries must be 1..32768, got " + p.entries());
        MemorySegment params = arena.allocate(IO_URING_PARAMS);
        int setupFlags = p.flags();
        if (p.cqEntries() > 0) {
            setupFlags |= UringConstants.SETUP_CQSIZE;
            params.set(ValueLayout.JAVA_INT, off(IO_URING_PARAMS, "cq_entries"), p.cqEntries());
        }
        params.set(ValueLayout.JAVA_INT, off(IO_URING_PARAMS, "flags"), setupFlags);
        long r = Libc.syscall(Syscalls.IO_URING_SETUP, p.entries(), params.address(), 0, 0, 0, 0);
        if (r < 0) {
            arena.close();
            throw new SyscallException("io_uring_setup", p.entries() + " entries, flags 0x" + Integer.toHexString(setupFlags), (int) -r);
        }
        fd = (int) r;
        flags = setupFlags;
        try {
            features = params.get(ValueLayout.JAVA_INT, off(IO_URING_PARAMS, "features"));
            sqEntries = params.get(ValueLayout.JAVA_INT, off(IO_URING_PARAMS, "sq_entries"));
            cqEntries = params.get(ValueLayout.JAVA_INT, off(IO_URING_PARAMS, "cq_entries"));
            sqeSize = (flags & UringConstants.SETUP_SQE128) != 0 ? 128 : 64;
            cqeSize = (flags & UringConstants.SETUP_CQE32) != 0 ? 32 : 16;
            long sq = off(IO_URING_PARAMS, "sq_off"), cq = off(IO_URING_PARAMS, "cq_off");
            int sqArray = params.get(ValueLayout.JAVA_INT, sq + off(IO_SQRING_OFFSETS, "array"));
            int cqCqes = params.get(ValueLayout.JAVA_INT, cq + off(IO_CQRING_OFFSETS, "cqes"));
            long sqRingSize = sqArray + (long) sqEntries * Integer.BYTES;
            long cqRingSize = cqCqes + (long) cqEntries * cqeSize;
            if ((features & UringConstants.FEAT_SINGLE_MMAP) != 0) {
                long size = Math.max(sqRingSize, cqRingSize);
                sqRing = Libc.mmap(MemorySegment.NULL, size, Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, UringConstants.OFF_SQ_RING);
                cqRing = sqRing;
            } else {
                sqRing = Libc.mmap(MemorySegment.NULL, sqRingSize, Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, UringConstants.OFF_SQ_RING);
                cqRing = Libc.mmap(MemorySegment.NULL, cqRingSize, Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, UringConstants.OFF_CQ_RING);
            }
            sqes = Libc.mmap(MemorySegment.NULL, (long) sqEntries * sqeSize, Libc.PROT_READ | Libc.PROT_WRITE,
                    Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, UringConstants.OFF_SQES);
            sqHeadOff = params.get(ValueLayout.JAVA_INT, sq + off(IO_SQRING_OFFSETS, "head"));
            sqTailOff = params.get(ValueLayout.JAVA_INT, sq + off(IO_SQRING_OFFSETS, "tail"));
            sqMask = sqRing.get(ValueLayout.JAVA_INT, params.get(ValueLayout.JAVA_INT, sq + off(IO_SQRING_OFFSETS, "ring_mask")));
            sqArrayOff = sqArray;
            cqHeadOff = params.get(ValueLayout.JAVA_INT, cq + off(IO_CQRING_OFFSETS, "head"));
            cqTailOff = params.get(ValueLayout.JAVA_INT, cq + off(IO_CQRING_OFFSETS, "tail"));
            cqMask = cqRing.get(ValueLayout.JAVA_INT, params.get(ValueLayout.JAVA_INT, cq + off(IO_CQRING_OFFSETS, "ring_mask")));
            cqesOff = cqCqes;
            // Identity SQ index array, filled once (as liburing does).
            for (int i = 0; i < sqEntries; i++) sqRing.set(ValueLayout.JAVA_INT, sqArrayOff + 4L * i, i);
            sqeTail = sqTailPublished = (int) INT.getAcquire(sqRing, sqTailOff);
            sqe = new Sqe(sqes, sqeSize);
        } catch (RuntimeException e) {
            Libc.close(fd);
            arena.close();
            throw e;
        }
    }

    public int fd() { return fd; }
    public int cqEntries() { return cqEntries; }
    public int features() { return features; }
    public boolean sqe128() { return sqeSize == 128; }
    public boolean cqe32() { return cqeSize == 32; }

    /** SQE slots free for preparation right now. */
    public int sqSpaceLeft() {
        int head = (int) INT.getAcquire(sqRing, sqHeadOff);
        return sqEntries - (sqeTail - head);
    }

    /** SQEs prepared and not yet submitted. */
    public int pending() { return sqeTail - sqTailPublished; }

    /**
     * The next free SQE, zeroed, or {@code null} if the submission queue is full.
     * The returned flyweight is valid until the next call.
     */
    public Sqe nextSqe() {
        ensureOpen();
        int head = (int) INT.getAcquire(sqRing, sqHeadOff);
        if (sqeTail - head >= sqEntries) return null;
        sqe.position((long) (sqeTail & sqMask) * sqeSize);
        sqeTail++;
        return sqe;
    }

    /** Like {@link #nextSqe()}, but submits what is pending to make room when full. */
    public Sqe sqe() {
        Sqe s = nextSqe();
        if (s == null) {
            submit();
            s = nextSqe();
            if (s == null) throw new IllegalStateException("submission queue full after submit");
        }
        return s;
    }

    /** Publishes prepared SQEs to the kernel and enters it; returns how many it consumed. */
    public int submit() { return submitAndWait(0); }

    /**
     * Publishes prepared SQEs and waits until at least {@code waitNr} completions are available.
     * EINTR is retried. Returns the number of SQEs the kernel consumed.
     */
    public int submitAndWait(int waitNr) {
        ensureOpen();
        int toSubmit = sqeTail - sqTailPublished;
        if (toSubmit > 0) {
            INT.setRelease(sqRing, sqTailOff, sqeTail);
            sqTailPublished = sqeTail;
        }
        if (toSubmit == 0 && waitNr == 0) return 0;
        if (waitNr > 0 && toSubmit == 0 && cqReady() >= waitNr) return 0;
        int enterFlags = waitNr > 0 ? UringConstants.ENTER_GETEVENTS : 0;
        while (true) {
            long r = Libc.syscall(Syscalls.IO_URING_ENTER, fd, toSubmit, waitNr, enterFlags, 0, 0);
            if (r >= 0) return (int) r;
            int e = (int) -r;
            if (e == Errno.EINTR) {
                // Everything was published already; whatever the kernel did not take it takes next time.
                continue;
            }
            if (e == Errno.EAGAIN || e == Errno.EBUSY) {
                // CQ overflow back-pressure: the caller must reap before submitting more.
                return 0;
            }
            throw new SyscallException("io_uring_enter", "fd " + fd + ", submit " + toSubmit + ", wait " + waitNr, e);
        }
    }

    /** Completions ready to reap. */
    public int cqReady() {
        int tail = (int) INT.getAcquire(cqRing, cqTailOff);
        int head = cqRing.get(ValueLayout.JAVA_INT, cqHeadOff);
        return tail - head;
    }

    /** Receives one reaped completion. */
    @FunctionalInterface
    public interface CompletionHandler {
        void complete(long userData, int res, int flags);
    }

    /** Reaps every ready completion into {@code h}, without blocking; returns how many. */
    public int reap(CompletionHandler h) {
        int head = cqRing.get(ValueLayout.JAVA_INT, cqHeadOff);
        int tail = (int) INT.getAcquire(cqRing, cqTailOff);
        int n = 0;
        while (head != tail) {
            long base = cqesOff + (long) (head & cqMask) * cqeSize;
            long ud = cqRing.get(ValueLayout.JAVA_LONG, base + CQE_USER_DATA);
            int res = cqRing.get(ValueLayout.JAVA_INT, base + CQE_RES);
            int fl = cqRing.get(ValueLayout.JAVA_INT, base + CQE_FLAGS);
            head++;
            n++;
            // Publish the slot before the handler runs: it may submit new work.
            INT.setRelease(cqRing, cqHeadOff, head);
            h.complete(ud, res, fl);
        }
        return n;
    }

    /** One reaped completion, for callers that prefer values to callbacks. */
    public record Cqe(long userData, int res, int flags) {}

    /** Submits what is pending, waits for {@code n} completions and returns them in ring order. */
    public List<Cqe> submitAndCollect(int n) {
        List<Cqe> out = new ArrayList<>(n);
        submit();
        while (out.size() < n) {
            if (cqReady() == 0) submitAndWait(1);
            reap((ud, res, fl) -> out.add(new Cqe(ud, res, fl)));
        }
        return out;
    }

    /** Registers files for IOSQE_FIXED_FILE use (index = position in the array). */
    public void registerFiles(int... fds) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment arr = a.allocateFrom(ValueLayout.JAVA_INT, fds);
            long r = Libc.syscall(Syscalls.IO_URING_REGISTER, fd, UringConstants.REGISTER_FILES, arr.address(), fds.length, 0, 0);
            if (r < 0) throw new SyscallException("io_uring_register", "REGISTER_FILES, " + fds.length + " files", (int) -r);
            registeredFiles = fds.length;
        }
    }

    public void unregisterFiles() {
        long r = Libc.syscall(Syscalls.IO_URING_REGISTER, fd, UringConstants.UNREGISTER_FILES, 0, 0, 0, 0);
        if (r < 0) throw new SyscallException("io_uring_register", "UNREGISTER_FILES", (int) -r);
        registeredFiles = 0;
    }

    /** How many files {@link #registerFiles} registered (0: none). */
    public int registeredFiles() { return registeredFiles; }

    /**
     * IORING_REGISTER_EVENTFD: the kernel adds 1 to {@code eventFd} whenever it posts a CQE on this
     * ring, so one thread can block on a single eventfd for several rings.
     */
    public void registerEventFd(int eventFd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment arr = a.allocateFrom(ValueLayout.JAVA_INT, eventFd);
            long r = Libc.syscall(Syscalls.IO_URING_REGISTER, fd, UringConstants.REGISTER_EVENTFD, arr.address(), 1, 0, 0);
            if (r < 0) throw new SyscallException("io_uring_register", "REGISTER_EVENTFD, fd " + eventFd, (int) -r);
        }
    }

    /** Registers buffers for READ_FIXED/WRITE_FIXED (index = position in the list). */
    public void registerBuffers(List<MemorySegment> bufs) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment iov = a.allocate(IOVEC, bufs.size());
            for (int i = 0; i < bufs.size(); i++) {
                iov.setAtIndex(ValueLayout.JAVA_LONG, 2L * i, bufs.get(i).address());
                iov.setAtIndex(ValueLayout.JAVA_LONG, 2L * i + 1, bufs.get(i).byteSize());
            }
            long r = Libc.syscall(Syscalls.IO_URING_REGISTER, fd, UringConstants.REGISTER_BUFFERS, iov.address(), bufs.size(), 0, 0);
            if (r < 0) throw new SyscallException("io_uring_register", "REGISTER_BUFFERS, " + bufs.size() + " buffers", (int) -r);
        }
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("io_uring fd " + fd + " is closed");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        Libc.munmap(sqes);
        Libc.munmap(sqRing);
        if (cqRing != sqRing) Libc.munmap(cqRing);
        Libc.close(fd);
        arena.close();
    }
}
