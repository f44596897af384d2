package dev.ublkctl.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class LibcTest {
    @TempDir Path dir;

    @Test
    void missingFileNamesCallPathAndErrno() {
        SyscallException e = assertThrows(SyscallException.class,
                () -> Libc.open(dir.resolve("nope").toString(), Libc.O_RDONLY));
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("open", e.call());
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
        assertTrue(e.getMessage().contains("ENOENT (No such file or directory)"), e.getMessage());
    }

    @Test
    void writeReadFsyncFallocateRoundTrip() throws Exception {
        Path f = dir.resolve("data");
        int fd = Libc.open(f.toString(), Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0600);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(8192);
            for (int i = 0; i < 8192; i++) buf.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7));
            assertEquals(8192, Libc.pwrite(fd, buf, 8192, 4096));
            Libc.fsync(fd);
            MemorySegment back = a.allocate(8192);
            assertEquals(8192, Libc.pread(fd, back, 8192, 4096));
            assertEquals(-1, buf.mismatch(back));
            // Punching a hole reads back as zeros and keeps the size.
            Libc.fallocate(fd, Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE, 4096, 4096);
            assertEquals(8192, Libc.pread(fd, back, 8192, 4096));
            for (int i = 0; i < 4096; i++) assertEquals(0, back.get(ValueLayout.JAVA_BYTE, i));
            assertEquals(buf.get(ValueLayout.JAVA_BYTE, 5000), back.get(ValueLayout.JAVA_BYTE, 5000));
            assertEquals(12288, Files.size(f));
        } finally {
            Libc.close(fd);
        }
        SyscallException e = assertThrows(SyscallException.class, () -> Libc.close(fd));
        assertEquals(Errno.EBADF, e.errno());
    }

    @Test
    void mmapEventfdAndIoctlErrors() {
        MemorySegment m = Libc.mmap(MemorySegment.NULL, 8192, Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
        m.set(ValueLayout.JAVA_LONG, 8184, 42L);
        assertEquals(42L, m.get(ValueLayout.JAVA_LONG, 8184));
        Libc.munmap(m);
        int efd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocateFrom(ValueLayout.JAVA_LONG, 3L);
            assertEquals(8, Libc.write(efd, one, 8));
            MemorySegment got = a.allocate(8);
            assertEquals(8, Libc.read(efd, got, 8));
            assertEquals(3L, got.get(ValueLayout.JAVA_LONG, 0));
            // An eventfd is not a tty: the ioctl error is typed and named.
            SyscallException e = assertThrows(SyscallException.class, () -> Libc.ioctl(efd, 0x5401 /* TCGETS */, got.address()));
            assertEquals("ioctl", e.call());
            assertEquals(Errno.ENOTTY, e.errno());
        } finally {
            Libc.close(efd);
        }
    }

    @Test
    void rawSyscallReturnsNegatedErrno() {
        // close(2) via syscall(3) on a bad fd.
        assertEquals(-Errno.EBADF, Libc.syscall(3, 100_000, 0, 0, 0, 0, 0));
        assertTrue(Libc.pageSize() >= 4096);
        assertEquals("EAGAIN", Errno.name(-11));
    }

    /** Closing a standard descriptor is always a clean-up bug here: refused, and the descriptor stays. */
    @Test
    void standardDescriptorsAreNeverClosedOnceHeld() {
        // as in the daemon after holdStandardDescriptors (which this JVM cannot run: its stdin is the test channel)
        Libc.refuseStandardCloses(true);
        try {
            for (int fd = 0; fd <= 2; fd++) {
                boolean open = Libc.isOpen(fd);
                int f = fd;
                var e = assertThrows(IllegalStateException.class, () -> Libc.close(f));
                assertTrue(e.getMessage().contains("standard descriptor " + fd), e.getMessage());
                assertEquals(open, Libc.isOpen(fd));
            }
        } finally {
            Libc.refuseStandardCloses(false);
        }
    }

    @Test
    void dup2IsOpenAndUmask() throws Exception {
        int a = Libc.open(dir.resolve("x").toString(), Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0600);
        int b = Libc.open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC);
        try {
            Libc.dup2(a, b);   // b now refers to the file
            assertEquals(Files.readSymbolicLink(Path.of("/proc/self/fd/" + a)), Files.readSymbolicLink(Path.of("/proc/self/fd/" + b)));
        } finally {
            Libc.close(b);
            Libc.close(a);
        }
        assertFalse(Libc.isOpen(b));
        int old = Libc.umask(077);
        try {
            assertEquals(077, Libc.umask(077));
        } finally {
            Libc.umask(old);
        }
    }
}
