package dev.ublkctl.engine;

import dev.ublkctl.engine.stats.QueueStats;

import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.sys.Errno;
import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.BlockIoException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Programs that break the rules fail their I/O with the RFC's errno; nothing hangs, the queue keeps serving. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BpfFaultTest {
    @TempDir static Path dir;
    static Path obj;

    @BeforeAll
    static void build() throws Exception { obj = BpfFixtures.compile("engine_faults", dir); }

    private static int errnoOf(int opsId) throws Exception {
        UblkProgram p = UblkProgram.load(BpfObject.load(obj), OpsRef.id(opsId));
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Null(1 << 20)).withDepth(4));
            d.attach(p);
            d.start();
            MemorySegment buf = a.allocate(8192, 4096);
            int errno = 0;
            for (int i = 0; i < 3; i++) { // the queue survives and fails the next ones the same way
                CompletionException x = assertThrows(CompletionException.class, () -> d.block().read(0, buf).join());
                int en = ((BlockIoException) x.getCause()).errno();
                if (i > 0) assertEquals(errno, en);
                errno = en;
            }
            QueueStats s = d.stats().total();
            assertEquals(3, s.errorCount());
            assertEquals(3, s.errors().get(errno));
            assertEquals(0, s.inFlight());
            return errno;
        }
    }

    @Test void unknownDispositionIsEinval() throws Exception { assertEquals(Errno.EINVAL, errnoOf(100)); }

    @Test void continueNotMultipleOf512IsEremoteio() throws Exception { assertEquals(BpfQueue.EREMOTEIO, errnoOf(101)); }

    @Test void continuePastTheEndIsEnospc() throws Exception { assertEquals(Errno.ENOSPC, errnoOf(102)); }

    @Test void continueZeroIsEremoteio() throws Exception { assertEquals(BpfQueue.EREMOTEIO, errnoOf(103)); }

    @Test void faultingProgramIsEfault() throws Exception { assertEquals(Errno.EFAULT, errnoOf(104)); }

    @Test void queuedButNeverCompletedIsEio() throws Exception { assertEquals(Errno.EIO, errnoOf(105)); }

    @Test void endlessLoopHitsTheBudget() throws Exception { assertEquals(Errno.EFAULT, errnoOf(106)); }

    @Test void firstErrorWinsOverEarlierSuccess() throws Exception { assertEquals(Errno.EIO, errnoOf(107)); }

    @Test
    void continueThenRedirectSendsTheRestToTheTarget() throws Exception {
        UblkProgram p = UblkProgram.load(BpfObject.load(obj), OpsRef.id(108));
        Path f = EngineBasicTest.file(dir, "half.img", 1 << 20);
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Loop(f)));
            d.attach(p);
            d.start();
            BlockDevice b = d.block();
            MemorySegment data = a.allocate(8192, 4096);
            data.fill((byte) 0x5a);
            assertEquals(8192, b.write(65536, data).join());
            byte[] disk = Files.readAllBytes(f);
            for (int i = 0; i < 4096; i++) assertEquals(0, disk[65536 + i], "first half was 'handled' by BPF, not written");
            for (int i = 4096; i < 8192; i++) assertEquals(0x5a, disk[65536 + i], "second half served by the loop target");
            QueueStats s = d.stats().total();
            assertEquals(1, s.redirected());
            assertEquals(1, s.splitParts());
            assertEquals(0, s.bpfHandled());
        }
    }

    private static long bss(UblkProgram p, int index) {
        byte[] v = p.map(".bss").orElseThrow().lookup(new byte[4]);
        return java.nio.ByteBuffer.wrap(v).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(index * 8);
    }

    @Test
    void lifecycleCallbacksRunWhenTheRfcRunsThem() throws Exception {
        UblkProgram p = UblkProgram.load(BpfObject.load(obj), OpsRef.id(109));
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Null(1 << 20)).withId(3));
            d.attach(p);
            assertEquals(0, bss(p, 0), "attach_dev waits for START_DEV");
            d.start();
            assertEquals(1, bss(p, 0));
            assertEquals(3, bss(p, 3), "attach_dev got the device id");
            MemorySegment buf = a.allocate(4096, 4096);
            for (int i = 0; i < 10; i++) d.block().read(0, buf).join();
            assertEquals(10, bss(p, 2), "release_io_cmd once per I/O, when its reference drops to zero");
            assertEquals(10, d.stats().total().bpfHandled());
            // detach on a live device: detach_dev now, I/O goes to the Java target
            d.detach();
            assertEquals(1, bss(p, 1));
            for (int i = 0; i < 5; i++) d.block().read(0, buf).join();
            assertEquals(10, d.stats().total().bpfHandled());
            assertEquals(15, d.stats().total().ios());
            // attach again while live: attach_dev now, I/O goes to BPF again
            d.attach(p);
            assertEquals(2, bss(p, 0));
            for (int i = 0; i < 5; i++) d.block().read(0, buf).join();
            assertEquals(15, d.stats().total().bpfHandled());
            d.stop();
            assertEquals(2, bss(p, 1), "detach_dev when the device stops");
        }
    }

    @Test
    void programsSeeTheRfcLayoutOfUblkBpfIo() throws Exception {
        UblkProgram p = UblkProgram.load(BpfObject.load(obj), OpsRef.id(110));
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.create(DeviceConfig.of(new TargetConfig.Null(1 << 20)).withQueues(2));
            d.attach(p);
            d.start();
            MemorySegment buf = a.allocate(8192, 4096);
            // ERANGE: prep state wrong; E2BIG: state after ublk_bpf_complete_io wrong
            for (int i = 0; i < 8; i++) assertEquals(8192, d.block().read(i * 8192L, buf).join());
            assertEquals(8, d.stats().total().bpfHandled());
        }
    }
}
