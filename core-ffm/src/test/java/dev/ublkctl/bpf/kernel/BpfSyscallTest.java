package dev.ublkctl.bpf.kernel;

import dev.ublkctl.bpf.maps.MapType;
import dev.ublkctl.bpf.object.ProgramType;
import dev.ublkctl.sys.Errno;
import dev.ublkctl.sys.Libc;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class BpfSyscallTest {
    @BeforeAll
    static void needBpf() {
        String why = Bpf.unavailableReason();
        if (why != null) System.out.println("SKIP bpf(2) tests: " + why);
        assumeTrue(why == null, () -> "bpf(2) not usable here: " + why);
    }

    /** Minimal raw encoder: the tests stay independent of the VM's assembler. */
    static final class Prog {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Prog insn(int op, int dst, int src, int off, int imm) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            b.put((byte) op).put((byte) ((src << 4) | dst)).putShort((short) off).putInt(imm);
            out.writeBytes(b.array());
            return this;
        }

        byte[] bytes() { return out.toByteArray(); }
    }

    static byte[] le32(int v) { return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array(); }

    static byte[] le64(long v) { return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array(); }

    @Test
    void arrayMapUpdateLookupAndInfo() {
        try (KernelMap m = Bpf.createMap(MapType.ARRAY, "ublk_test_arr", 4, 8, 4, 0)) {
            m.update(le32(2), le64(0x1234_5678_9abcL), Bpf.BPF_ANY);
            assertArrayEquals(le64(0x1234_5678_9abcL), m.lookup(le32(2)));
            assertArrayEquals(le64(0), m.lookup(le32(0)));
            assertNull(m.lookup(le32(9)), "out of range index reads as absent");
            KernelMap.Info info = m.info();
            assertEquals("ublk_test_arr", info.name());
            assertEquals(MapType.ARRAY.kernelId, info.type());
            assertEquals(8, info.valueSize());
            assertTrue(info.id() > 0);
        }
    }

    @Test
    void hashMapFlagsDeleteAndIteration() {
        try (KernelMap m = Bpf.createMap(MapType.HASH, "ublk_test_hash", 8, 4, 16, 0)) {
            for (long k = 1; k <= 5; k++) m.update(le64(k), le32((int) (k * 10)), Bpf.BPF_NOEXIST);
            BpfException dup = assertThrows(BpfException.class, () -> m.update(le64(1), le32(0), Bpf.BPF_NOEXIST));
            assertEquals(Errno.EEXIST, dup.errno());
            BpfException missing = assertThrows(BpfException.class, () -> m.update(le64(99), le32(0), Bpf.BPF_EXIST));
            assertEquals(Errno.ENOENT, missing.errno());
            assertTrue(m.delete(le64(3)));
            assertFalse(m.delete(le64(3)));
            long sum = 0;
            int n = 0;
            for (byte[] k = m.nextKey(null); k != null; k = m.nextKey(k)) {
                sum += ByteBuffer.wrap(m.lookup(k)).order(ByteOrder.LITTLE_ENDIAN).getInt();
                n++;
            }
            assertEquals(4, n);
            assertEquals(10 + 20 + 40 + 50, sum);
            assertThrows(IllegalArgumentException.class, () -> m.lookup(le32(1)));
        }
    }

    @Test
    void percpuValuesHaveOneSlotPerPossibleCpu() {
        try (KernelMap m = Bpf.createMap(MapType.PERCPU_ARRAY, "ublk_test_pcpu", 4, 4, 1, 0)) {
            assertEquals(8 * KernelMap.possibleCpus(), m.valueBufferSize());
            byte[] v = new byte[m.valueBufferSize()];
            v[0] = 7;
            m.update(le32(0), v, Bpf.BPF_ANY);
            assertArrayEquals(v, m.lookup(le32(0)));
        }
    }

    @Test
    void socketFilterTestRunReturnsSkbLenAndData() {
        // r0 = skb->len (struct __sk_buff offset 0); exit
        byte[] insns = new Prog().insn(0x61, 0, 1, 0, 0).insn(0x95, 0, 0, 0, 0).bytes();
        try (KernelProgram p = Bpf.loadProgram(new Bpf.ProgramLoad(ProgramType.SOCKET_FILTER, insns, "GPL", "skb_len"))) {
            byte[] pkt = new byte[100];
            for (int i = 0; i < pkt.length; i++) pkt[i] = (byte) i;
            KernelProgram.TestRunResult r = p.testRun(KernelProgram.TestRunInput.ofData(pkt, 10));
            assertEquals(100 - 14, r.retval(), "skb->len excludes the Ethernet header the kernel pulls");
            assertEquals(pkt.length, r.dataOut().length);
            // The kernel rewrites the Ethernet header it builds the skb from; the payload comes back as sent.
            assertArrayEquals(Arrays.copyOfRange(pkt, 14, 100), Arrays.copyOfRange(r.dataOut(), 14, 100));
            KernelProgram.Info info = p.info();
            assertEquals("skb_len", info.name());
            assertEquals(ProgramType.SOCKET_FILTER.kernelId, info.type());
            assertEquals(16, info.xlatedLen(), "two instructions of 8 bytes");
            assertEquals(16, info.tag().length());
        }
    }

    @Test
    void xdpProgramWritesPacketData() {
        // r2 = data; r3 = data_end; if r2 + 8 > r3 goto drop; *(u64 *)(r2 + 0) = r4 (0x11..); r0 = XDP_PASS
        Prog p = new Prog()
                .insn(0x61, 2, 1, 0, 0)        // r2 = *(u32 *)(r1 + 0)  data
                .insn(0x61, 3, 1, 4, 0)        // r3 = *(u32 *)(r1 + 4)  data_end
                .insn(0xbf, 5, 2, 0, 0)        // r5 = r2
                .insn(0x07, 5, 0, 0, 8)        // r5 += 8
                .insn(0x2d, 5, 3, 5, 0)        // if r5 > r3 goto drop (+5)
                .insn(0x18, 4, 0, 0, 0x55667788).insn(0, 0, 0, 0, 0x11223344) // r4 = 0x1122334455667788 ll
                .insn(0x7b, 2, 4, 0, 0)        // *(u64 *)(r2 + 0) = r4
                .insn(0xb7, 0, 0, 0, 2)        // r0 = XDP_PASS
                .insn(0x95, 0, 0, 0, 0)
                .insn(0xb7, 0, 0, 0, 1)        // drop: r0 = XDP_DROP
                .insn(0x95, 0, 0, 0, 0);
        try (KernelProgram prog = Bpf.loadProgram(new Bpf.ProgramLoad(ProgramType.XDP, p.bytes(), "GPL", "xdp_write"))) {
            byte[] pkt = new byte[64];
            KernelProgram.TestRunResult r = prog.testRun(KernelProgram.TestRunInput.ofData(pkt, 1));
            assertEquals(2, r.retval());
            assertArrayEquals(le64(0x1122334455667788L), Arrays.copyOf(r.dataOut(), 8));
            assertEquals(64, r.dataOut().length);
        }
    }

    @Test
    void rejectedProgramCarriesVerifierLog() {
        // r0 = r2 reads an uninitialised register: the verifier refuses.
        byte[] insns = new Prog().insn(0xbf, 0, 2, 0, 0).insn(0x95, 0, 0, 0, 0).bytes();
        BpfException e = assertThrows(BpfException.class,
                () -> Bpf.loadProgram(new Bpf.ProgramLoad(ProgramType.SOCKET_FILTER, insns, "GPL", "bad")));
        assertEquals(Errno.EACCES, e.errno());
        assertTrue(e.verifierLog().contains("R2 !read_ok"), e.verifierLog());
        assertTrue(e.getMessage().contains("BPF_PROG_LOAD"), e.getMessage());
        assertTrue(e.getMessage().contains("verifier log"), e.getMessage());
    }

    @Test
    void btfLoadAcceptsMinimalBlobAndLogsBadOne() {
        // header(24) + one INT type "int" (12 + 4 bytes) + strings "\0int\0"
        ByteBuffer b = ByteBuffer.allocate(24 + 16 + 5).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) 0xeB9F).put((byte) 1).put((byte) 0).putInt(24);
        b.putInt(0).putInt(16).putInt(16).putInt(5);
        b.putInt(1).putInt(1 << 24).putInt(4).putInt(32);   // name_off 1, kind INT, size 4, bits 32
        b.put(new byte[]{0, 'i', 'n', 't', 0});
        int fd = Bpf.loadBtf(b.array());
        Libc.close(fd);
        byte[] bad = b.array().clone();
        bad[24 + 4 + 3] = 0x7f; // kind 0x7f: invalid
        BpfException e = assertThrows(BpfException.class, () -> Bpf.loadBtf(bad));
        assertEquals(Errno.EINVAL, e.errno());
        assertFalse(e.verifierLog().isBlank(), "BTF load failure should carry the kernel's log");
    }

    @Test
    void pinGetAndRunStats() throws Exception {
        Path bpffs = Path.of("/sys/fs/bpf");
        boolean mounted = Files.readAllLines(Path.of("/proc/mounts")).stream().anyMatch(l -> l.split(" ")[1].equals("/sys/fs/bpf") && l.split(" ")[2].equals("bpf"));
        if (!mounted) System.out.println("SKIP pin test: bpffs is not mounted at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)");
        assumeTrue(mounted, "bpffs not mounted at /sys/fs/bpf");
        byte[] insns = new Prog().insn(0xb7, 0, 0, 0, 7).insn(0x95, 0, 0, 0, 0).bytes();
        Path pin = bpffs.resolve("ublkctl_test_" + ProcessHandle.current().pid());
        int statsFd = Bpf.enableStats();
        try (KernelProgram p = Bpf.loadProgram(new Bpf.ProgramLoad(ProgramType.SOCKET_FILTER, insns, "GPL", "seven"))) {
            Bpf.pin(p.fd(), pin.toString());
            int fd2 = Bpf.getPinned(pin.toString());
            Libc.close(fd2);
            p.testRun(KernelProgram.TestRunInput.ofData(new byte[64], 1000));
            assertTrue(p.info().runCount() >= 1000, "run count with stats enabled: " + p.info().runCount());
        } finally {
            Files.deleteIfExists(pin);
            Libc.close(statsFd);
        }
        BpfException e = assertThrows(BpfException.class, () -> Bpf.getPinned(pin.toString()));
        assertEquals(Errno.ENOENT, e.errno());
    }
}
