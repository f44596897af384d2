package dev.ublkctl.uring;

import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.Libc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class IoUringTest {
    @TempDir Path dir;

    private static final int BS = 4096;

    private static void fill(MemorySegment s, long seed) {
        Random r = new Random(seed);
        for (long i = 0; i < s.byteSize(); i += 8) s.set(ValueLayout.JAVA_LONG, i, r.nextLong());
    }

    @Test
    void randomWritesThenReadsVerifyAtDepth64() {
        int blocks = 2048, depth = 64;
        Path f = dir.resolve("file");
        int fd = Libc.open(f.toString(), Libc.O_RDWR | Libc.O_CREAT, 0600);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < blocks; i++) order.add(i);
        Collections.shuffle(order, new Random(1));
        try (IoUring ring = IoUring.create(128); Arena a = Arena.ofConfined()) {
            MemorySegment bufs = a.allocate((long) depth * BS, 4096);
            // Writes: keep 64 in flight, each slot's user_data = its block number.
            runAtDepth(ring, order, depth, (slot, block) -> {
                MemorySegment b = bufs.asSlice((long) slot * BS, BS);
                fill(b, block);
                ring.sqe().prepWrite(fd, b, BS, (long) block * BS).userData(((long) slot << 32) | block);
            }, (ud, res) -> assertEquals(BS, res, "write of block " + (ud & 0xffffffffL)));
            Collections.shuffle(order, new Random(2));
            MemorySegment expect = a.allocate(BS);
            runAtDepth(ring, order, depth, (slot, block) -> {
                MemorySegment b = bufs.asSlice((long) slot * BS, BS);
                b.fill((byte) 0);
                ring.sqe().prepRead(fd, b, BS, (long) block * BS).userData(((long) slot << 32) | block);
            }, (ud, res) -> {
                assertEquals(BS, res);
                int slot = (int) (ud >>> 32), block = (int) ud;
                fill(expect, block);
                assertEquals(-1, expect.mismatch(bufs.asSlice((long) slot * BS, BS)), "block " + block);
            });
        } finally {
            Libc.close(fd);
        }
    }

    interface Prep { void prep(int slot, int block); }
    interface Check { void check(long ud, int res); }

    /** Keeps {@code depth} requests in flight until every block is done; slots are reused on completion. */
    private static void runAtDepth(IoUring ring, List<Integer> blocks, int depth, Prep prep, Check check) {
        java.util.ArrayDeque<Integer> free = new java.util.ArrayDeque<>();
        for (int i = 0; i < depth; i++) free.add(i);
        int next = 0, done = 0, maxInFlight = 0;
        while (done < blocks.size()) {
            while (!free.isEmpty() && next < blocks.size()) prep.prep(free.poll(), blocks.get(next++));
            maxInFlight = Math.max(maxInFlight, depth - free.size());
            ring.submitAndWait(1);
            int[] d = {0};
            ring.reap((ud, res, fl) -> {
                check.check(ud, res);
                free.add((int) (ud >>> 32));
                d[0]++;
            });
            done += d[0];
        }
        assertEquals(depth, maxInFlight);
    }

    @Test
    void errorsAreResultsAndUserDataRoundTrips() {
        try (IoUring ring = IoUring.create(8); Arena a = Arena.ofConfined()) {
            MemorySegment b = a.allocate(512);
            ring.sqe().prepNop().userData(0xdead_beef_cafeL);
            ring.sqe().prepRead(987_654, b, 512, 0).userData(2);          // no such fd
            ring.sqe().prepWrite(-1, b, 512, 0).userData(3);
            List<IoUring.Cqe> c = ring.submitAndCollect(3);
            assertEquals(3, c.size());
            IoUring.Cqe nop = c.stream().filter(x -> x.userData() == 0xdead_beef_cafeL).findFirst().orElseThrow();
            assertEquals(0, nop.res());
            assertEquals(-Errno.EBADF, c.stream().filter(x -> x.userData() == 2).findFirst().orElseThrow().res());
            assertEquals(-Errno.EBADF, c.stream().filter(x -> x.userData() == 3).findFirst().orElseThrow().res());
        }
    }

    @Test
    void linkedSqesCompleteInOrder() {
        try (IoUring ring = IoUring.create(16)) {
            for (int i = 0; i < 10; i++) {
                Sqe s = ring.sqe().prepNop().userData(i);
                if (i < 9) s.flags(UringConstants.SQE_IO_LINK);
            }
            List<IoUring.Cqe> c = ring.submitAndCollect(10);
            for (int i = 0; i < 10; i++) assertEquals(i, c.get(i).userData());
        }
    }

    @Test
    void queueFullReturnsNullAndBatchesSubmitTogether() {
        try (IoUring ring = IoUring.create(4)) {
            for (int i = 0; i < 4; i++) {
                Sqe s = ring.nextSqe();
                assertNotNull(s);
                s.prepNop().userData(i);
            }
            assertNull(ring.nextSqe(), "a full SQ must say so, not overwrite");
            assertEquals(4, ring.pending());
            assertEquals(4, ring.submit());
            assertEquals(4, ring.submitAndCollect(4).size());
            assertEquals(4, ring.sqSpaceLeft());
        }
    }

    @Test
    void vectoredFixedRegisteredFsyncAndFallocate() throws IOException {
        Path f = dir.resolve("v");
        int fd = Libc.open(f.toString(), Libc.O_RDWR | Libc.O_CREAT, 0600);
        try (IoUring ring = IoUring.create(16); Arena a = Arena.ofConfined()) {
            MemorySegment b0 = a.allocate(BS, 4096), b1 = a.allocate(BS, 4096);
            fill(b0, 10);
            fill(b1, 11);
            MemorySegment iov = a.allocate(UringLayouts.IOVEC, 2);
            iov.setAtIndex(ValueLayout.JAVA_LONG, 0, b0.address());
            iov.setAtIndex(ValueLayout.JAVA_LONG, 1, BS);
            iov.setAtIndex(ValueLayout.JAVA_LONG, 2, b1.address());
            iov.setAtIndex(ValueLayout.JAVA_LONG, 3, BS);
            ring.sqe().prepWritev(fd, iov, 2, 0).userData(1);
            assertEquals(2 * BS, ring.submitAndCollect(1).getFirst().res());

            // Fixed buffer + registered file: read block 1 back through index 0 / file 0.
            MemorySegment fixed = a.allocate(BS, 4096);
            ring.registerBuffers(List.of(fixed));
            ring.registerFiles(fd);
            ring.sqe().prepReadFixed(0, fixed, BS, BS, 0).fixedFile(0).userData(2);
            assertEquals(BS, ring.submitAndCollect(1).getFirst().res());
            assertEquals(-1, fixed.mismatch(b1));
            ring.unregisterFiles();

            ring.sqe().prepFsync(fd, 0).userData(3);
            assertEquals(0, ring.submitAndCollect(1).getFirst().res());
            ring.sqe().prepFallocate(fd, 0, 0, 1 << 20).userData(4);
            assertEquals(0, ring.submitAndCollect(1).getFirst().res());
            assertEquals(1 << 20, Files.size(f));
            ring.sqe().prepFallocate(fd, Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE, 0, BS).userData(5);
            assertEquals(0, ring.submitAndCollect(1).getFirst().res());
            ring.sqe().prepReadv(fd, iov, 1, 0).userData(6);
            assertEquals(BS, ring.submitAndCollect(1).getFirst().res());
            for (int i = 0; i < BS; i += 512) assertEquals(0, b0.get(ValueLayout.JAVA_BYTE, i));
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void sqe128UringCmdAndCqe32() {
        try (IoUring ring = IoUring.create(new IoUring.Params(8).withFlags(UringConstants.SETUP_SQE128 | UringConstants.SETUP_CQE32));
             Arena a = Arena.ofConfined()) {
            assertTrue(ring.sqe128());
            assertTrue(ring.cqe32());
            int fd = Libc.open(dir.resolve("plain").toString(), Libc.O_RDWR | Libc.O_CREAT, 0600);
            try {
                MemorySegment payload = a.allocate(80);
                payload.set(ValueLayout.JAVA_LONG, 72, 0x1122334455667788L);
                Sqe s = ring.sqe().prepUringCmd(fd, 0x1234, payload).userData(77);
                assertEquals(0x1122334455667788L, s.cmdArea().get(ValueLayout.JAVA_LONG, 72));
                IoUring.Cqe c = ring.submitAndCollect(1).getFirst();
                assertEquals(77, c.userData());
                // A regular file has no uring_cmd handler: the kernel's refusal is a result.
                assertEquals(-Errno.EOPNOTSUPP, c.res());
            } finally {
                Libc.close(fd);
            }
            assertThrows(IllegalArgumentException.class, () -> ring.sqe().prepUringCmd(0, 1, a.allocate(81)));
        }
    }

    private static long count(Path p) throws IOException {
        try (Stream<Path> s = Files.list(p)) { return s.count(); }
    }

    private static long mapsLines() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).size();
    }

    @Test
    void closingRingsLeaksNoFdsOrMappings() throws IOException {
        // Warm up whatever the JVM maps lazily.
        for (int i = 0; i < 3; i++) IoUring.create(64).close();
        long fds = count(Path.of("/proc/self/fd")), maps = mapsLines();
        for (int i = 0; i < 200; i++) {
            try (IoUring r = IoUring.create(64)) {
                r.sqe().prepNop();
                r.submitAndCollect(1);
            }
        }
        assertEquals(fds, count(Path.of("/proc/self/fd")), "fd leak");
        // Allow for JVM-internal mapping churn, far below one mapping per ring (200+).
        assertTrue(mapsLines() - maps < 20, "mapping leak: " + maps + " -> " + mapsLines());
        IoUring closed = IoUring.create(2);
        closed.close();
        assertThrows(IllegalStateException.class, closed::nextSqe);
    }
}
