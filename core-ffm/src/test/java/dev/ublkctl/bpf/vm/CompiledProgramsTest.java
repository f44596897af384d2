package dev.ublkctl.bpf.vm;

import dev.ublkctl.bpf.jit.EngineKind;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ublkctl.bpf.insn.Disassembler;
import dev.ublkctl.bpf.kernel.Bpf;
import dev.ublkctl.bpf.kernel.KernelMap;
import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.MapSpec;
import dev.ublkctl.bpf.object.ProgramSpec;
import dev.ublkctl.bpf.testing.BpfObjects;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;


import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The clang-compiled programs of bpf-objects, through the loader, in the VM on both engines (and the kernel as oracle). */
class CompiledProgramsTest {

    @Test
    void ublkProgramsPrepareOnceTheirKfuncsAreRegistered() throws VmFault {
        for (String name : List.of("null", "loop", "stripe", "qcow2")) {
            BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes(name), name);
            List<VmMap> maps = VmLoader.createMaps(obj, 4);
            assertFalse(obj.programs().isEmpty(), name);
            for (ProgramSpec p : obj.programs()) {
                if (!p.kfuncs().isEmpty()) {
                    VmFault f = assertThrows(VmFault.class, () -> VmLoader.prepare(p, maps, FunctionRegistry.standard()));
                    assertTrue(f.getMessage().contains("unknown kfunc " + p.kfuncs().get(0))
                            || p.kfuncs().stream().anyMatch(k -> f.getMessage().contains("unknown kfunc " + k)), f.getMessage());
                }
                FunctionRegistry reg = FunctionRegistry.standard();
                Set<String> seen = new HashSet<>();
                for (String k : p.kfuncs()) {
                    if (seen.add(k)) reg.register(k, (ctx, a, b, c, d, e) -> { throw VmFault.helper(k + " is not part of this test"); });
                }
                VmProgram vp = VmLoader.prepare(p, maps, reg);
                assertEquals(p.insnCount(), vp.length());
                String listing = new Disassembler(vp.sourceLines(), p.kfuncs(), obj.maps().stream().map(MapSpec::name).toList())
                        .dump(p.insns());
                assertTrue(listing.contains("; "), "listing of " + p.name() + " interleaves C lines");
            }
        }
    }

    /**
     * The compiled null target's split program entered as struct_ops with Java kfuncs: an io object and
     * its descriptor live in caller regions, the config map sets the piece size, and the program's
     * CONTINUE/QUEUED returns, kfunc calls, per-queue stats and .bss counter come out as the C says.
     */
    @ParameterizedTest
    @EnumSource(EngineKind.class)
    void nullSplitProgramRunsAsStructOpsWithJavaKfuncs(EngineKind kind) throws Exception {
        BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes("null"), "null");
        List<VmMap> maps = VmLoader.createMaps(obj, 1);
        VmContext ctx = new VmContext();
        MemorySegment iod = MemorySegment.ofArray(new long[3]);            // struct ublksrv_io_desc
        iod.set(java.lang.foreign.ValueLayout.JAVA_INT, 4, 24);            // nr_sectors: 12 KiB
        MemorySegment io = MemorySegment.ofArray(new long[8]);             // struct ublk_bpf_io
        long iodAddr = ctx.addRegion(iod, false, "ublksrv_io_desc");
        long ioAddr = ctx.addRegion(io, true, "ublk_bpf_io");
        io.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, iodAddr);
        List<Long> completed = new ArrayList<>();
        FunctionRegistry reg = FunctionRegistry.standard();
        reg.register("ublk_bpf_get_iod", (c, p, a, b, d, e) -> c.load(p, 8));
        reg.register("ublk_bpf_get_queue_id", (c, p, a, b, d, e) -> 0);
        reg.register("ublk_bpf_get_io_tag", (c, p, a, b, d, e) -> 5);
        reg.register("ublk_bpf_get_dev_id", (c, p, a, b, d, e) -> 0);
        reg.register("ublk_bpf_complete_io", (c, p, res, b, d, e) -> {
            assertEquals(ioAddr, p, "complete_io gets the io pointer");
            completed.add((long) (int) res);
            return 0;
        });
        ProgramSpec spec = obj.program("null_queue_io_split").orElseThrow();
        VmProgram prog = VmLoader.prepare(spec, maps, reg);
        VmMap cfg = maps.get(obj.mapIndex("null_cfg"));
        cfg.update(new byte[4], ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(4096).array(), VmMap.BPF_ANY);

        ExecutionEngine vm = kind.create();
        long cont4k = (2L << 60) | 4096;
        assertEquals(cont4k, vm.runStructOps(prog, ctx, ioAddr, 0));
        assertEquals(cont4k, vm.runStructOps(prog, ctx, ioAddr, 4096));
        assertTrue(completed.isEmpty());
        assertEquals(0, vm.runStructOps(prog, ctx, ioAddr, 8192), "last piece: QUEUED");
        assertEquals(List.of(12288L), completed);

        ByteBuffer st = ByteBuffer.wrap(maps.get(obj.mapIndex("qstats")).lookup(new byte[4])).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1, st.getLong(0), "queued");
        assertEquals(2, st.getLong(16), "split");
        assertEquals(12288, st.getLong(24), "bytes");
        MapSpec bss = obj.maps().stream().filter(m -> m.section().equals(".bss")).findFirst().orElseThrow();
        assertEquals(1, ByteBuffer.wrap(maps.get(obj.mapIndex(bss.name())).lookup(new byte[4])).order(ByteOrder.LITTLE_ENDIAN).getLong(0),
                "null_total_ios counts the I/O once");
    }

    @ParameterizedTest
    @EnumSource(EngineKind.class)
    void syscallProgramMatchesTheKernelOnRandomArguments(EngineKind kind) throws VmFault {
        String why = Bpf.unavailableReason();
        if (why != null) System.out.println("SKIP compiled-program oracle: " + why);
        assumeTrue(why == null, () -> "bpf(2) not usable here: " + why);
        BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes("test/syscall"), "syscall");
        ProgramSpec spec = obj.program("calc").orElseThrow();
        List<KernelMap> kmaps = new ArrayList<>();
        try {
            for (MapSpec m : obj.maps()) {
                KernelMap km = Bpf.createMap(m.type(), m.name(), m.keySize(), m.valueSize(), m.maxEntries(), m.flags());
                kmaps.add(km);
                if (m.isGlobalData()) km.update(new byte[4], m.initialValue(), Bpf.BPF_ANY);
            }
            byte[] insns = spec.insns();
            ByteBuffer b = ByteBuffer.wrap(insns).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < spec.insnCount(); i++) {
                int src = (insns[i * 8 + 1] >> 4) & 0xf;
                if ((insns[i * 8] & 0xff) == 0x18 && (src == 1 || src == 2)) {
                    b.putInt(i * 8 + 4, kmaps.get(b.getInt(i * 8 + 4)).fd());
                    i++;
                }
            }
            // syscall programs must be sleepable, which Bpf.ProgramLoad cannot ask for yet: own bpf(2) call
            String[] why2 = new String[1];
            SleepableSyscallProgram kp = SleepableSyscallProgram.load(insns, spec.license(), why2);
            assertNotNull(kp, () -> "kernel refused calc: " + why2[0]);
            try (kp) {
                VmProgram vp = VmLoader.prepare(spec, VmLoader.createMaps(obj, 1), FunctionRegistry.standard());
                ExecutionEngine vm = kind.create();
                VmContext ctx = new VmContext();
                Random r = new Random(99);
                long[] edge = {0, 1, -1, Long.MIN_VALUE, Long.MAX_VALUE, 7, -7, 1L << 32};
                for (int run = 0; run < 300; run++) {
                    long a = r.nextInt(3) == 0 ? edge[r.nextInt(edge.length)] : r.nextLong() >> r.nextInt(64);
                    long bb = r.nextInt(3) == 0 ? edge[r.nextInt(edge.length)] : r.nextLong() >> r.nextInt(64);
                    int n = r.nextInt(40);
                    byte[] args = ByteBuffer.allocate(72).order(ByteOrder.LITTLE_ENDIAN).putLong(a).putLong(bb).putInt(n).putInt(0).array();
                    byte[] mine = args.clone();
                    long kr0 = kp.run(args);
                    long r0 = vm.runWithContext(vp, ctx, MemorySegment.ofArray(mine), true);
                    String what = "calc(" + a + ", " + bb + ", " + n + ")";
                    assertEquals(kr0, r0 & 0xffffffffL, what);
                    assertArrayEquals(args, mine, what);
                }
            }
        } finally {
            kmaps.forEach(KernelMap::close);
        }
    }
}
