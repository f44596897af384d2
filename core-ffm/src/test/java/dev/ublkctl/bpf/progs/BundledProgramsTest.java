package dev.ublkctl.bpf.progs;

import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.progs.UblkBpfHarness.Aio;
import dev.ublkctl.bpf.progs.UblkBpfHarness.Io;
import dev.ublkctl.bpf.progs.UblkBpfHarness.Step;
import dev.ublkctl.bpf.testing.BpfObjects;
import dev.ublkctl.bpf.vm.VmFault;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static dev.ublkctl.bpf.progs.UblkBpfHarness.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The bundled null/loop/stripe programs, run in the VM against {@link UblkBpfHarness}: what they
 * return to the driver loop, what they complete, what aio they submit and what they count.
 */
class BundledProgramsTest {
    private static final int READ = 0, WRITE = 1, FLUSH = 2, DISCARD = 3, WRITE_ZEROES = 5;

    private static UblkBpfHarness harness(String name) throws VmFault {
        return new UblkBpfHarness(BpfObject.parse(BpfObjects.bundledBytes(name), name));
    }

    @Test
    void nullCompletesInBpf() throws VmFault {
        UblkBpfHarness h = harness("null");
        Io io = h.io(0, 1, 5, READ, 100, 8);
        assertEquals(List.of(new Step(QUEUED, 0, 0)), h.queue("null_queue_io", io));
        assertEquals(List.of(4096), io.completions);
        long[] st = h.qstats(1);
        assertEquals(1, st[0]);    // queued
        assertEquals(4096, st[3]); // bytes
        assertEquals(1, le8(h.map(".bss").lookup(new byte[4]))); // null_total_ios
    }

    @Test
    void nullSplitsWithContinue() throws VmFault {
        UblkBpfHarness h = harness("null");
        Io io = h.io(0, 0, 1, WRITE, 0, 32); // 16 KiB, default piece 4 KiB (.rodata)
        List<Step> steps = h.queue("null_queue_io_split", io);
        assertEquals(List.of(new Step(CONTINUE, 4096, 0), new Step(CONTINUE, 4096, 4096), new Step(CONTINUE, 4096, 8192),
                new Step(QUEUED, 0, 12288)), steps);
        assertEquals(List.of(16384), io.completions);
        assertEquals(3, h.qstats(0)[2]); // split

        // a piece size from null_cfg
        UblkBpfHarness.update(h.map("null_cfg"), new byte[4], le(16).putInt(1536).putInt(0).putInt(0).putInt(0).array());
        Io io2 = h.io(0, 0, 2, READ, 0, 8); // 4096 = 1536 + 1536 + 1024
        assertEquals(List.of(new Step(CONTINUE, 1536, 0), new Step(CONTINUE, 1536, 1536), new Step(QUEUED, 0, 3072)),
                h.queue("null_queue_io_split", io2));
        assertEquals(List.of(4096), io2.completions);
        // small I/Os are not split
        Io small = h.io(0, 0, 3, READ, 0, 1);
        assertEquals(List.of(new Step(QUEUED, 0, 0)), h.queue("null_queue_io_split", small));
    }

    @Test
    void nullRedirectsByRuleAndFinishesBouncedIo() throws VmFault {
        UblkBpfHarness h = harness("null");
        // redirect writes, and every 4th tag
        UblkBpfHarness.update(h.map("null_cfg"), new byte[4], le(16).putInt(0).putInt(1 << WRITE).putInt(4).putInt(0).array());
        Io write = h.io(3, 0, 1, WRITE, 0, 8);
        assertEquals(List.of(new Step(REDIRECT, 0, 0)), h.queue("null_queue_io_redirect", write));
        assertTrue(write.completions.isEmpty());
        Io read = h.io(3, 0, 2, READ, 0, 8);
        assertEquals(List.of(new Step(QUEUED, 0, 0)), h.queue("null_queue_io_redirect", read));
        assertEquals(List.of(4096), read.completions);
        Io tag8 = h.io(3, 0, 8, READ, 0, 8);
        assertEquals(REDIRECT, h.queue("null_queue_io_redirect", tag8).getFirst().disposition());
        assertEquals(2, h.qstats(0)[1]); // redirected

        // the server asks BPF to finish the write (bounce[key] = 1, then -EAGAIN): BPF completes it
        long key = (3L << 32) | (0L << 16) | 1;
        UblkBpfHarness.update(h.map("bounce"), le(8).putLong(key).array(), le(4).putInt(1).array());
        assertEquals(List.of(new Step(QUEUED, 0, 0)), h.queue("null_queue_io_redirect", write));
        assertEquals(List.of(4096), write.completions);
        assertNull(h.map("bounce").lookup(le(8).putLong(key).array()), "bounce entry consumed");
    }

    @Test
    void loopSubmitsOneAioPerIoAndCompletesFromTheCallback() throws VmFault {
        UblkBpfHarness h = harness("loop");
        Io noFile = h.io(7, 0, 0, READ, 0, 8);
        assertEquals(REDIRECT, h.queue("loop_queue_io", noFile).getFirst().disposition());
        assertEquals(-22, (int) h.run("loop_attach_dev", 7));

        UblkBpfHarness.update(h.map("loop_files"), le(4).putInt(7).array(), le(8).putInt(42).putInt(0).array());
        assertEquals(0, (int) h.run("loop_attach_dev", 7));
        int[][] cases = {{READ, 0, 0}, {WRITE, 1, 0}, {FLUSH, 2, 0}, {DISCARD, 3, 0x03}, {WRITE_ZEROES, 3, 0x11}};
        for (int[] c : cases) {
            Io io = h.io(7, 1, 3, c[0], 64, c[0] == FLUSH ? 0 : 16);
            assertEquals(List.of(new Step(QUEUED, 0, 0)), h.queue("loop_queue_io", io));
            Aio aio = h.aios.values().stream().filter(a -> a.io == io).findFirst().orElseThrow();
            assertEquals(c[1], aio.op, "aio op for ublk op " + c[0]);
            assertEquals(42, aio.fd);
            assertEquals(64 << 9, aio.pos);
            assertEquals(io.bytes(), aio.bytes);
            assertEquals(c[2], aio.flags, "fallocate mode");
            assertTrue(io.completions.isEmpty());
            h.run("loop_aio_done", aio.addr, io.bytes());
            assertEquals(List.of(io.bytes()), io.completions);
            assertTrue(aio.detached && aio.released);
        }
        long[] st = h.qstats(1);
        assertEquals(5, st[5]); // aio_submitted
        assertEquals(5, st[6]); // aio_completed
        // an aio error completes the I/O with it
        Io bad = h.io(7, 1, 4, READ, 0, 8);
        h.queue("loop_queue_io", bad);
        Aio aio = h.aios.values().stream().filter(a -> a.io == bad).findFirst().orElseThrow();
        h.run("loop_aio_done", aio.addr, -5);
        assertEquals(List.of(-5), bad.completions);
        assertEquals(1, h.qstats(1)[4]); // errors

        // mixed mode: mix.redirect_ops = WRITE sends writes to the server, reads stay in BPF
        UblkBpfHarness.update(h.map("mix"), le(4).putInt(0).array(), le(8).putInt(1 << WRITE).putInt(0).array());
        int aiosBefore = h.aios.size();
        Io w = h.io(7, 1, 5, WRITE, 0, 8);
        assertEquals(REDIRECT, h.queue("loop_queue_io", w).getFirst().disposition());
        assertEquals(aiosBefore, h.aios.size(), "no aio for a redirected write");
        Io r = h.io(7, 1, 6, READ, 0, 8);
        assertEquals(QUEUED, h.queue("loop_queue_io", r).getFirst().disposition());
        assertEquals(aiosBefore + 1, h.aios.size());
    }

    @Test
    void stripeMixedModeSendsChosenOpsToTheServerWhole() throws VmFault {
        UblkBpfHarness h = harness("stripe");
        UblkBpfHarness.update(h.map("stripe_cfg"), le(4).putInt(9).array(),
                le(24).putInt(12).putInt(2).putInt(10).putInt(11).putInt(-1).putInt(-1).array());
        UblkBpfHarness.update(h.map("mix"), le(4).putInt(0).array(), le(8).putInt(1 << WRITE).putInt(0).array());
        Io w = h.io(9, 0, 1, WRITE, 4, 24);   // spans chunks, but goes to the server in one piece
        assertEquals(List.of(new Step(REDIRECT, 0, 0)), h.queue("stripe_queue_io", w));
        assertTrue(h.aios.isEmpty());
        Io r = h.io(9, 0, 2, READ, 4, 24);
        assertEquals(4, h.queue("stripe_queue_io", r).size(), "reads are still split in BPF");
        assertEquals(1, h.qstats(0)[1]); // redirected
    }

    @Test
    void stripeSplitsAtChunkBoundariesAcrossFiles() throws VmFault {
        UblkBpfHarness h = harness("stripe");
        // two files, 4 KiB chunks
        UblkBpfHarness.update(h.map("stripe_cfg"), le(4).putInt(9).array(),
                le(24).putInt(12).putInt(2).putInt(10).putInt(11).putInt(-1).putInt(-1).array());
        assertEquals(0, (int) h.run("stripe_attach_dev", 9));
        // 12 KiB at byte 2048: pieces 2048 (chunk 0), 4096 (chunk 1), 4096 (chunk 2), 2048 (chunk 3)
        Io io = h.io(9, 0, 6, WRITE, 4, 24);
        List<Step> steps = h.queue("stripe_queue_io", io);
        assertEquals(List.of(new Step(CONTINUE, 2048, 0), new Step(CONTINUE, 4096, 2048), new Step(CONTINUE, 4096, 6144),
                new Step(CONTINUE, 2048, 10240)), steps);
        List<Aio> pieces = new ArrayList<>(h.aios.values().stream().filter(a -> a.io == io).toList());
        pieces.sort(Comparator.comparingInt(a -> a.bufOff));
        assertEquals(4, pieces.size());
        int[][] expect = {{10, 2048, 2048, 0}, {11, 0, 4096, 2048}, {10, 4096, 4096, 6144}, {11, 4096, 2048, 10240}}; // fd, file pos, bytes, buf off
        for (int i = 0; i < 4; i++) {
            Aio a = pieces.get(i);
            assertEquals(1, a.op);
            assertArrayEquals(expect[i], new int[] {a.fd, (int) a.pos, a.bytes, a.bufOff}, "piece " + i);
            assertEquals(a.bytes, a.bufBytes);
        }
        // the I/O completes once, after the last of its pieces
        for (int i = 0; i < 3; i++) h.run("stripe_aio_done", pieces.get(i).addr, pieces.get(i).bytes);
        assertTrue(io.completions.isEmpty());
        h.run("stripe_aio_done", pieces.get(3).addr, pieces.get(3).bytes);
        assertEquals(List.of(12288), io.completions);
        long[] st = h.qstats(0);
        assertEquals(1, st[0]);
        assertEquals(4, st[2]);   // split pieces
        assertEquals(12288, st[3]);
        assertEquals(0, h.map("stripe_inflight").count(), "per-I/O record removed");
    }

    @Test
    void stripeErrorsFlushAndBadLayouts() throws VmFault {
        UblkBpfHarness h = harness("stripe");
        Io none = h.io(2, 0, 0, READ, 0, 8);
        assertEquals(REDIRECT, h.queue("stripe_queue_io", none).getFirst().disposition());
        UblkBpfHarness.update(h.map("stripe_cfg"), le(4).putInt(2).array(),
                le(24).putInt(16).putInt(5).putInt(1).putInt(2).putInt(3).putInt(4).array());
        assertEquals(-22, (int) h.run("stripe_attach_dev", 2), "5 files is more than 4");
        UblkBpfHarness.update(h.map("stripe_cfg"), le(4).putInt(2).array(),
                le(24).putInt(16).putInt(3).putInt(20).putInt(21).putInt(22).putInt(-1).array());
        assertEquals(0, (int) h.run("stripe_attach_dev", 2));

        // a read inside one 64 KiB chunk is one piece on file (start >> 16) % 3
        Io read = h.io(2, 0, 1, READ, 128 * 3, 8); // byte 196608 = chunk 3 -> file 0, row 1
        assertEquals(List.of(new Step(CONTINUE, 4096, 0)), h.queue("stripe_queue_io", read));
        Aio a = h.aios.values().stream().filter(x -> x.io == read).findFirst().orElseThrow();
        assertEquals(20, a.fd);
        assertEquals(65536, a.pos);
        h.run("stripe_aio_done", a.addr, -5);
        assertEquals(List.of(-5), read.completions);

        // FLUSH: one fsync per file, completion after all of them
        Io flush = h.io(2, 0, 2, FLUSH, 0, 0);
        assertEquals(List.of(new Step(QUEUED, 0, 0)), h.queue("stripe_queue_io", flush));
        List<Aio> syncs = h.aios.values().stream().filter(x -> x.io == flush).toList();
        assertEquals(3, syncs.size());
        assertTrue(syncs.stream().allMatch(s -> s.op == 2));
        assertEquals(List.of(20, 21, 22), syncs.stream().map(s -> s.fd).sorted().toList());
        for (Aio s : syncs) {
            assertTrue(flush.completions.isEmpty());
            h.run("stripe_aio_done", s.addr, 0);
        }
        assertEquals(List.of(0), flush.completions);
    }

    private static long le8(byte[] b) { return le(8).put(b, 0, 8).getLong(0); }
}
