package dev.ublkctl.target.qcow2;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.Libc;
import dev.ublkctl.sys.Syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * QEMU's image locking, so that QEMU and ublkctl see each other's use of an image. QEMU
 * (block/file-posix.c) holds an open file description lock on byte {@code 100 + p} for each
 * permission {@code p} it uses and on byte {@code 200 + p} for each it does not let others have;
 * permissions are consistent read (0), write (1), write-unchanged (2) and resize (3). Opening
 * first checks that nobody forbids what it wants and nobody uses what it forbids.
 */
final class ImageLock {
    private ImageLock() { }

    static final int PERM_BASE = 100, SHARED_BASE = 200;
    static final int CONSISTENT_READ = 0, WRITE = 1, WRITE_UNCHANGED = 2, RESIZE = 3;
    private static final String[] NAMES = {"consistent read", "write", "write unchanged", "resize"};
    private static final int F_OFD_GETLK = 36, F_OFD_SETLK = 37;
    private static final short F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;

    /** {@code struct flock} (x86_64 and aarch64 agree). */
    static final StructLayout FLOCK = MemoryLayout.structLayout(
            ValueLayout.JAVA_SHORT.withName("l_type"), ValueLayout.JAVA_SHORT.withName("l_whence"),
            MemoryLayout.paddingLayout(4),
            ValueLayout.JAVA_LONG.withName("l_start"), ValueLayout.JAVA_LONG.withName("l_len"),
            ValueLayout.JAVA_INT.withName("l_pid"), MemoryLayout.paddingLayout(4));
    private static final VarHandle TYPE = FLOCK.varHandle(MemoryLayout.PathElement.groupElement("l_type")),
            START = FLOCK.varHandle(MemoryLayout.PathElement.groupElement("l_start")),
            LEN = FLOCK.varHandle(MemoryLayout.PathElement.groupElement("l_len"));

    /**
     * Takes the locks of a writer (all four permissions, sharing neither write nor resize) or of a
     * reader (consistent read, not sharing write), after checking nobody conflicts.
     */
    static void acquire(HostFile f, boolean writer) {
        int[] use = writer ? new int[]{CONSISTENT_READ, WRITE, WRITE_UNCHANGED, RESIZE} : new int[]{CONSISTENT_READ};
        int[] forbid = writer ? new int[]{WRITE, RESIZE} : new int[]{WRITE};
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fl = a.allocate(FLOCK);
            for (int p : use) {
                if (lockedByOthers(f.fd, fl, SHARED_BASE + p))
                    throw new Qcow2FormatException(f.path + ": the image is in use: another process (QEMU?) does not allow '" + NAMES[p] + "' on it");
            }
            for (int p : forbid) {
                if (lockedByOthers(f.fd, fl, PERM_BASE + p))
                    throw new Qcow2FormatException(f.path + ": the image is in use: another process (QEMU?) holds '" + NAMES[p] + "' on it");
            }
            for (int p : use) set(f, fl, PERM_BASE + p);
            for (int p : forbid) set(f, fl, SHARED_BASE + p);
        }
    }

    private static boolean lockedByOthers(int fd, MemorySegment fl, long at) {
        fill(fl, F_WRLCK, at);
        long r = Libc.syscall(Syscalls.FCNTL, fd, F_OFD_GETLK, fl.address(), 0, 0, 0);
        if (r < 0) return false;   // a file system without OFD locks: nothing to see
        return (short) TYPE.get(fl, 0L) != F_UNLCK;
    }

    private static void set(HostFile f, MemorySegment fl, long at) {
        fill(fl, F_RDLCK, at);
        long r = Libc.syscall(Syscalls.FCNTL, f.fd, F_OFD_SETLK, fl.address(), 0, 0, 0);
        // EAGAIN/EACCES: someone took a conflicting lock since the check; other errors: no OFD locks on this file system
        if (r == -Errno.EAGAIN || r == -Errno.EACCES)
            throw new Qcow2FormatException(f.path + ": the image is in use: its lock byte " + at + " is held by another process");
    }

    private static void fill(MemorySegment fl, short type, long at) {
        fl.fill((byte) 0);
        TYPE.set(fl, 0L, type);
        START.set(fl, 0L, at);
        LEN.set(fl, 0L, 1L);
    }
}
