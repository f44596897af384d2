package dev.ublkctl.bpf.vm;

import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.bpf.kernel.Bpf;
import dev.ublkctl.bpf.kernel.KernelMap;
import dev.ublkctl.bpf.kernel.KernelObject;
import dev.ublkctl.bpf.kernel.KernelProgram;
import dev.ublkctl.bpf.kernel.KernelRingBuffer;
import dev.ublkctl.bpf.maps.ProgArrayMap;
import dev.ublkctl.bpf.maps.RingBufMap;
import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.ProgramSpec;
import dev.ublkctl.bpf.object.ProgramType;
import dev.ublkctl.bpf.testing.BpfObjects;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Tail calls, the ring buffer, bpf_for_each_map_elem and bpf_spin_lock as the kernel runs them: the
 * programs of {@code test/features.o} run in the kernel (bpf(2), BPF_PROG_TEST_RUN) and on each VM engine
 * on the same seeded packets; r0, the packet, every map and the ring buffer's bytes must agree.
 */
class KernelFeaturesTest {
    static BpfObject obj;

    @BeforeAll
    static void needBpf() {
        String why = Bpf.unavailableReason();
        if (why != null) System.out.println("SKIP kernel feature tests: " + why);
        assumeTrue(why == null, () -> "bpf(2) not usable here: " + why);
        obj = BpfObject.parse(BpfObjects.bundledBytes("test/features"), "features");
    }

    /** The VM side of the object: its maps and every program, prepared on one registry. */
    static final class VmSide {
        final List<VmMap> maps = VmLoader.createMaps(obj, 1);
        final Map<String, VmProgram> progs = new HashMap<>();
        final PacketRunner runner;

        VmSide(ExecutionEngine engine) throws VmFault {
            runner = new PacketRunner(engine);
            FunctionRegistry reg = runner.withPacketHelpers(FunctionRegistry.standard());
            progs.putAll(VmLoader.prepareAll(obj, maps, reg));
        }

        VmMap map(String name) { return maps.get(obj.mapIndex(name)); }

        PacketRunner.Result run(String prog, byte[] frame) throws VmFault {
            return runner.run(progs.get(prog), ProgramType.XDP, frame, 1);
        }
    }

    static byte[] frame(Random r, int min) {
        byte[] f = new byte[min + r.nextInt(48)];
        r.nextBytes(f);
        return f;
    }

    /** Runs {@code prog} on both sides for {@code runs} packets, comparing r0 and the packet after each. */
    static void compareRuns(KernelObject k, VmSide v, String prog, int runs, long seed, String engine,
                            java.util.function.IntConsumer every) throws VmFault {
        Random r = new Random(seed);
        for (int i = 0; i < runs; i++) {
            byte[] f = frame(r, 16);
            String in = HexFormat.of().formatHex(f);
            KernelProgram.TestRunResult kr = k.program(prog).testRun(KernelProgram.TestRunInput.ofData(f, 1));
            PacketRunner.Result vr = v.run(prog, f);
            assertEquals(kr.retval(), vr.retval(), () -> prog + " on " + engine + ": r0 differs for " + in);
            assertArrayEquals(kr.dataOut(), vr.dataOut(), () -> prog + " on " + engine + ": packet differs for " + in);
            if (every != null) every.accept(i);
        }
    }

    static void compareMap(KernelObject k, VmSide v, String name, String engine) {
        KernelMap km = k.map(name);
        VmMap vm = v.map(name);
        int n = 0;
        for (byte[] k0 = km.nextKey(null); k0 != null; k0 = km.nextKey(k0), n++) {
            byte[] key = k0, kv = km.lookup(key), vv = vm.lookup(key);
            assertNotNull(vv, () -> name + " on " + engine + ": the VM lacks key " + HexFormat.of().formatHex(key));
            assertArrayEquals(kv, vv, () -> name + " on " + engine + ": values differ at " + HexFormat.of().formatHex(key));
        }
        assertEquals(n, vm.count(), () -> name + " on " + engine + ": entry counts differ");
    }

    @Test
    void tailCallsMatchTheKernel() throws Exception {
        for (EngineKind kind : EngineKind.values()) {
            VmSide v = new VmSide(kind.create());
            ProgArrayMap table = (ProgArrayMap) v.map("jmp_table");
            try (KernelObject k = KernelObject.load(obj)) {
                // both loaders filled the table from the object's .values: slots 0-2, slot 3 empty
                assertEquals(java.util.Map.of(0, "tc_mark", 1, "tc_chain", 2, "tc_loop"), obj.map("jmp_table").orElseThrow().initialPrograms());
                assertEquals(3, table.count());
                compareRuns(k, v, "tc_entry", 200, 15, kind.name(), null);
                compareMap(k, v, "tc_hits", kind.name());
                // the loop stops at the kernel's limit: 33 tail calls per run in all
                long loopRuns = le64(v.map("tc_hits").lookup(le32(2)));
                long chainRuns = le64(v.map("tc_hits").lookup(le32(3)));
                assertTrue(loopRuns > 0 && chainRuns > 0, "both ways into the loop were taken");
                // user space sees the ids of the programs in the table, and empties slots as the kernel does
                assertEquals(v.progs.get("tc_loop").id(), (int) le64(java.util.Arrays.copyOf(table.lookup(le32(2)), 8)));
                assertNull(table.lookup(le32(3)));
                table.delete(le32(0));
                k.map("jmp_table").delete(le32(0));
                compareRuns(k, v, "tc_entry", 40, 16, kind.name(), null);
                compareMap(k, v, "tc_hits", kind.name());
                // a user's update puts a program back by its id (the kernel takes its fd)
                table.update(le32(0), le32(v.progs.get("tc_mark").id()), VmMap.BPF_ANY);
                k.setTailCall("jmp_table", 0, "tc_mark");
                compareRuns(k, v, "tc_entry", 40, 17, kind.name(), null);
                compareMap(k, v, "tc_hits", kind.name());
            }
        }
    }

    @Test
    void ringBufferMatchesTheKernelByteForByte() throws Exception {
        for (EngineKind kind : EngineKind.values()) {
            VmSide v = new VmSide(kind.create());
            RingBufMap rb = (RingBufMap) v.map("events");
            try (KernelObject k = KernelObject.load(obj); KernelRingBuffer kr = new KernelRingBuffer(k.map("events"))) {
                int[] full = {0};
                compareRuns(k, v, "rb_prog", 400, 27, kind.name(), i -> {
                    assertEquals(kr.producerPosition(), rb.producerPosition(), kind + ": producer position after run " + i);
                    byte[] kd = kr.data(), vd = rb.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                    if (!java.util.Arrays.equals(kd, vd)) {
                        for (int j = 0; j < kd.length; j += 8) if (!java.util.Arrays.equals(kd, j, j + 8, vd, j, j + 8))
                            System.out.println("DIFF at " + j + " k=" + HexFormat.of().formatHex(kd, j, j + 8) + " v=" + HexFormat.of().formatHex(vd, j, j + 8));
                        System.out.println("prod " + rb.producerPosition() + " cons " + rb.consumerPosition());
                    }
                    assertArrayEquals(kd, vd, () -> kind + ": ring buffer bytes differ after run " + i);
                    if (rb.query(RingBufMap.RB_AVAIL_DATA) > 3000) full[0]++;
                    if (i % 37 == 36) {   // a reader catches up now and then, on both sides
                        List<RingBufMap.Record> recs = rb.consume();
                        assertFalse(recs.isEmpty());
                        kr.setConsumerPosition(rb.consumerPosition());
                    }
                });
                assertTrue(full[0] > 0, "the ring filled up at times");
            }
        }
    }

    @Test
    void forEachMapElemMatchesTheKernel() throws Exception {
        for (EngineKind kind : EngineKind.values()) {
            VmSide v = new VmSide(kind.create());
            try (KernelObject k = KernelObject.load(obj)) {
                compareRuns(k, v, "fe_prog", 300, 39, kind.name(), null);
                compareMap(k, v, "fe_arr", kind.name());
                compareMap(k, v, "fe_hash", kind.name());
            }
        }
    }

    @Test
    void spinLockProgramMatchesTheKernel() throws Exception {
        for (EngineKind kind : EngineKind.values()) {
            VmSide v = new VmSide(kind.create());
            try (KernelObject k = KernelObject.load(obj)) {
                compareRuns(k, v, "sl_prog", 200, 51, kind.name(), null);
                compareMap(k, v, "sl_map", kind.name());
            }
        }
    }

    static byte[] le32(int v) { return java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(v).array(); }
    static long le64(byte[] b) { return java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(); }
}
