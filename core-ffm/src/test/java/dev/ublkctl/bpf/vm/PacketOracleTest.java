package dev.ublkctl.bpf.vm;

import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.bpf.kernel.Bpf;
import dev.ublkctl.bpf.kernel.BpfException;
import dev.ublkctl.sys.Errno;
import dev.ublkctl.bpf.kernel.KernelCollection;
import dev.ublkctl.bpf.kernel.KernelMap;
import dev.ublkctl.bpf.kernel.KernelProgram;
import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.ProgramSpec;
import dev.ublkctl.bpf.testing.BpfObjects;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The same clang-built XDP and socket-filter objects, byte for byte, in the kernel (bpf(2) +
 * BPF_PROG_TEST_RUN) and in the VM ({@link PacketRunner}): r0, output packet and every map
 * agree after hundreds of seeded random packets.
 */
class PacketOracleTest {
    @BeforeAll
    static void needBpf() {
        String why = Bpf.unavailableReason();
        if (why != null) System.out.println("SKIP packet oracle tests: " + why);
        assumeTrue(why == null, () -> "bpf(2) not usable here: " + why);
    }

    static byte[] randomFrame(Random r) {
        int len = r.nextInt(10) == 0 ? 1 + r.nextInt(20) : 14 + r.nextInt(200);
        byte[] f = new byte[len];
        r.nextBytes(f);
        if (len >= 14 && r.nextBoolean()) { // mostly IPv4/IPv6 EtherTypes, so maps see repeats
            boolean v6 = r.nextBoolean();
            f[12] = (byte) (v6 ? 0x86 : 0x08);
            f[13] = (byte) (v6 ? 0xdd : 0x00);
        }
        return f;
    }

    int refused;

    void compare(String object, String program) throws VmFault {
        for (EngineKind kind : EngineKind.values()) compare(object, program, kind.create());
    }

    /** One engine against a freshly loaded kernel copy of the object (so both sides start with empty maps). */
    void compare(String object, String program, ExecutionEngine engine) throws VmFault {
        BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes(object), object);
        ProgramSpec spec = obj.program(program).orElseThrow();
        PacketRunner runner = new PacketRunner(engine);
        List<VmMap> vmMaps = VmLoader.createMaps(obj, 1);
        VmProgram vp = VmLoader.prepare(spec, vmMaps, runner.withPacketHelpers(FunctionRegistry.standard()));
        Random r = new Random(object.hashCode());
        try (KernelCollection kc = KernelCollection.load(obj, spec)) {
            for (int run = 0; run < 300; run++) {
                byte[] frame = randomFrame(r);
                String in = HexFormat.of().formatHex(frame);
                KernelProgram.TestRunResult k;
                try {
                    k = kc.program().testRun(KernelProgram.TestRunInput.ofData(frame, 1));
                } catch (BpfException e) {
                    // the kernel refuses some inputs outright: the VM must refuse the same ones
                    assertEquals(Errno.EINVAL, e.errno());
                    assertThrows(IllegalArgumentException.class, () -> runner.run(vp, spec.type(), frame, 1), () -> "VM accepted " + in);
                    refused++;
                    continue;
                }
                PacketRunner.Result v = runner.run(vp, spec.type(), frame, 1);
                assertEquals(k.retval(), v.retval(), () -> program + " on " + engine.name() + ": r0 differs for " + in);
                assertArrayEquals(k.dataOut(), v.dataOut(), () -> program + " on " + engine.name() + ": output differs for " + in);
            }
            for (int m = 0; m < vmMaps.size(); m++) {
                KernelMap km = kc.map(m);
                VmMap vm = vmMaps.get(m);
                int entries = 0;
                for (byte[] key = km.nextKey(null); key != null; key = km.nextKey(key), entries++) {
                    byte[] kv = km.lookup(key);
                    byte[] vv = vm.lookup(key);
                    assertNotNull(vv, () -> "map " + vm.name() + ": VM lacks a key the kernel has");
                    // per-CPU kernel maps: the test run ran on one CPU; compare the sum over CPUs
                    assertArrayEquals(km.type().perCpu() ? sumPerCpu(kv, vm.def().valueSize()) : kv, vv,
                            () -> "map " + vm.name() + " differs on " + engine.name());
                }
                assertTrue(entries > 0 || vm.def().maxEntries() > 0);
            }
        }
    }

    static byte[] sumPerCpu(byte[] v, int size) {
        byte[] out = new byte[size];
        int stride = (size + 7) & ~7;
        for (int off = 0; off + size <= v.length; off += stride)
            for (int i = 0; i + 8 <= size; i += 8) {
                long a = java.nio.ByteBuffer.wrap(out, i, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
                long b = java.nio.ByteBuffer.wrap(v, off + i, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
                java.nio.ByteBuffer.wrap(out, i, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(a + b);
            }
        return out;
    }

    @Test
    void xdpObjectAgreesWithTheKernel() throws VmFault {
        compare("test/xdp", "xdp_filter");
        assertTrue(refused > 0, "short frames were tried");
    }

    @Test
    void socketFilterObjectAgreesWithTheKernel() throws VmFault {
        compare("test/sockfilter", "count_and_trim");
        assertTrue(refused > 0, "short IP frames were tried");
    }

    @Test
    void packetWindowKeepsNullFaultingAndBoundsChecked() throws VmFault {
        VmContext ctx = new VmContext();
        long base = ctx.addPacketRegion(java.lang.foreign.MemorySegment.ofArray(new byte[16]), true, "packet");
        assertEquals(VmContext.PACKET_BASE, base);
        ctx.store(base + 15, 1, 0x7f);
        assertEquals(0x7f, ctx.load(base + 15, 1));
        assertThrows(VmFault.class, () -> ctx.load(base + 16, 1));
        assertThrows(VmFault.class, () -> ctx.load(base - 1, 1));
        assertThrows(VmFault.class, () -> ctx.load(0, 8));
        assertThrows(IllegalStateException.class, () -> ctx.addPacketRegion(java.lang.foreign.MemorySegment.ofArray(new byte[4]), true, "second"));
        ctx.clearRegions();
        assertThrows(VmFault.class, () -> ctx.load(base, 1));
    }
}
