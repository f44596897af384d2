package dev.ublkctl.bpf.object;

import dev.ublkctl.bpf.kernel.Bpf;
import dev.ublkctl.bpf.kernel.KernelCollection;
import dev.ublkctl.bpf.kernel.KernelMap;
import dev.ublkctl.bpf.kernel.KernelProgram;
import dev.ublkctl.bpf.testing.BpfObjects;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The relocated instructions are what the kernel expects: load the kernel-loadable test programs
 * from their {@link ProgramSpec}s with bpf(2) (maps created from the {@link MapSpec}s, map indices
 * replaced by fds), run them with BPF_PROG_TEST_RUN and check the results and map contents.
 */
class KernelLoadTest {
    @BeforeAll
    static void needBpf() {
        String why = Bpf.unavailableReason();
        if (why != null) System.out.println("SKIP kernel load tests: " + why);
        assumeTrue(why == null, () -> "bpf(2) not usable here: " + why);
    }

    /** The object's maps created in the kernel, global data initialised, and its program loaded. */
    private record Loaded(KernelCollection kc) implements AutoCloseable {
        KernelMap map(BpfObject obj, String name) { return kc.map(obj.mapIndex(name)); }

        KernelProgram prog() { return kc.program(); }

        @Override
        public void close() { kc.close(); }
    }

    private static Loaded load(BpfObject obj, String program) {
        ProgramSpec p = obj.program(program).orElseThrow();
        assertEquals(p.type() == ProgramType.SYSCALL, p.sleepable());
        try {
            return new Loaded(KernelCollection.load(obj, p));
        } catch (dev.ublkctl.bpf.kernel.BpfException e) {
            String log = e.verifierLog();
            throw new AssertionError(e.getMessage() + "\n" + log.substring(Math.max(0, log.length() - 4000)), e);
        }
    }

    private static ByteBuffer le(byte[] b) { return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN); }

    @Test
    void socketFilterWithSubprogramMapsAndGlobals() {
        BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes("test/sockfilter"), "sockfilter");
        try (Loaded l = load(obj, "count_and_trim")) {
            byte[] pkt = new byte[60];
            pkt[12] = 0x08;   // EtherType IPv4
            pkt[14] = 0x46;   // first byte after the Ethernet header (the skb data seen by the filter): class 2
            long ret = l.prog().testRun(KernelProgram.TestRunInput.ofData(pkt, 1)).retval();
            int skbLen = pkt.length - 14; // test run pulls the Ethernet header
            assertEquals(Math.min(skbLen, 96), ret); // snap_len from .rodata
            ByteBuffer c = le(l.map(obj, "counts").lookup(le(new byte[4]).putInt(0, 2).array()));
            assertEquals(1, c.getLong(0));
            assertEquals(skbLen, c.getLong(8));
            assertEquals(1, le(l.map(obj, ".bss").lookup(new byte[4])).getLong(0)); // total_packets
        }
    }

    @Test
    void xdpWithHashMapAndDataSection() {
        BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes("test/xdp"), "xdp");
        try (Loaded l = load(obj, "xdp_filter")) {
            byte[] v4 = new byte[64], v6 = new byte[64];
            v4[12] = 0x08;
            v6[12] = (byte) 0x86;
            v6[13] = (byte) 0xdd;
            assertEquals(2 /* XDP_PASS */, l.prog().testRun(KernelProgram.TestRunInput.ofData(v4, 1)).retval());
            assertEquals(1 /* XDP_DROP, IPv6 listed in .data */, l.prog().testRun(KernelProgram.TestRunInput.ofData(v6, 1)).retval());
            assertEquals(2, l.prog().testRun(KernelProgram.TestRunInput.ofData(v4, 1)).retval());
            KernelMap counts = l.map(obj, "proto_count");
            assertEquals(2, le(counts.lookup(new byte[] {0x08, 0x00})).getLong(0));
            assertEquals(1, le(counts.lookup(new byte[] {(byte) 0x86, (byte) 0xdd})).getLong(0));
        }
    }

    @Test
    void syscallProgramComputesWhatJavaComputes() {
        BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes("test/syscall"), "syscall");
        try (Loaded l = load(obj, "calc")) {
            long[][] cases = {{100, 7, 5}, {-123456789012L, 98765, 32}, {0x7fffffffffffffffL, -3, 40}, {42, 0, 0}, {-1, -1, 1}};
            for (long[] cs : cases) {
                long a = cs[0], b = cs[1];
                int n = (int) cs[2];
                ByteBuffer ctx = ByteBuffer.allocate(72).order(ByteOrder.LITTLE_ENDIAN).putLong(a).putLong(b).putInt(n).putInt(0);
                KernelProgram.TestRunResult r = l.prog().testRun(KernelProgram.TestRunInput.ofContext(ctx.array(), 1));
                ByteBuffer out = le(r.ctxOut());
                long[] expect = calc(a, b, n);
                for (int k = 0; k < 6; k++) assertEquals(expect[k], out.getLong(24 + 8 * k), "out[" + k + "] for " + a + ", " + b + ", " + n);
                assertEquals((int) (expect[2] & 0x7fffffff), (int) r.retval());
            }
        }
    }

    @Test
    void fixedUpBtfIsAcceptedByTheKernel() {
        // DATASEC sizes/offsets fixed by the loader are enough for objects without kfuncs ...
        for (String name : List.of("test/sockfilter", "test/xdp", "test/syscall")) {
            BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes(name), name);
            int fd = Bpf.loadBtf(obj.btf().encode());
            assertTrue(fd > 0, name);
            dev.ublkctl.sys.Libc.close(fd);
        }
        // ... objects calling kfuncs need their extern FUNCs and .ksyms sanitized
        for (String name : List.of("null", "loop", "stripe", "qcow2")) {
            BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes(name), name);
            var e = assertThrows(dev.ublkctl.bpf.kernel.BpfException.class, () -> Bpf.loadBtf(obj.btf().encode()));
            assertTrue(e.getMessage().contains("Invalid func linkage"), e::getMessage);
            int fd = Bpf.loadBtf(obj.btf().sanitizedForKernel().encode());
            assertTrue(fd > 0, name);
            dev.ublkctl.sys.Libc.close(fd);
        }
    }

    /** The C of syscall.c, in Java. */
    static long[] calc(long a, long b, int n) {
        long[] out = new long[6];
        if (b != 0) {
            long q = Long.divideUnsigned(uabs(a), uabs(b));
            out[0] = (a < 0) != (b < 0) ? -q : q;
        }
        out[1] = gcd(uabs(a), uabs(b));
        out[2] = crc32(a ^ (b << 1)) & 0xffffffffL;
        long sum = 0;
        for (int i = 0; i < 32 && i < n; i++) sum += (a >> (i & 63)) * (i + 1);
        out[3] = sum;
        out[4] = Long.reverseBytes(a) ^ (Integer.reverseBytes((int) b) & 0xffffffffL);
        out[5] = (int) ((int) a * (int) 2654435761L) >> 7;
        return out;
    }

    /** |v| as an unsigned 64-bit value (|Long.MIN_VALUE| = 2^63). */
    private static long uabs(long v) { return v < 0 ? -v : v; }

    private static long gcd(long a, long b) {
        for (int i = 0; i < 64 && b != 0; i++) {
            long t = Long.remainderUnsigned(a, b);
            a = b;
            b = t;
        }
        return a;
    }

    private static int crc32(long v) {
        int[] table = {0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
                0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c};
        int crc = 0xffffffff;
        for (int i = 0; i < 16; i++) crc = table[(int) ((crc ^ (v >>> (i * 4))) & 15)] ^ (crc >>> 4);
        return ~crc;
    }
}
