package dev.ublkctl.bpf.vm;

import dev.ublkctl.bpf.insn.Asm;
import dev.ublkctl.bpf.insn.Instruction.AluOp;
import dev.ublkctl.bpf.insn.Instruction.JmpOp;
import dev.ublkctl.bpf.insn.Instruction.Size;
import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.bpf.maps.MapDef;
import dev.ublkctl.bpf.maps.MapType;
import dev.ublkctl.bpf.maps.ProgArrayMap;
import dev.ublkctl.bpf.maps.RingBufMap;
import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.ProgramType;
import dev.ublkctl.bpf.testing.BpfObjects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static dev.ublkctl.bpf.insn.Asm.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The VM's rules for tail calls, ring buffers, bpf_for_each_map_elem and spin locks where no kernel run
 * can show them (the verifier refuses such programs) and where a kernel run cannot be compared (threads
 * sharing a lock). KernelFeaturesTest compares the normal cases with the kernel.
 */
class MapFeaturesTest {
    static VmProgram prog(String name, Asm a, VmMap... maps) throws VmFault {
        return VmProgram.builder(name, a.bytes()).maps(List.of(maps)).registry(FunctionRegistry.standard()).prepare();
    }

    static VmMap progArray() { return VmMap.create(MapDef.of("jt", MapType.PROG_ARRAY, 4, 4, 4), 1); }

    @ParameterizedTest
    @EnumSource(EngineKind.class)
    void tailCallReplacesTheCallerOnTheSameBudget(EngineKind kind) throws Exception {
        ExecutionEngine vm = kind.create();
        VmMap jt = progArray();
        // main(r1): tail_call(r1, jt, r2); return 77  (5 instructions up to the call: ld_imm64 is one)
        VmProgram main = prog("main", new Asm().mov64Reg(R6, R1).mov64Reg(R3, R2).ldMap(R2, 0).mov64Reg(R1, R6)
                .call(StandardHelpers.TAIL_CALL).ret(77), jt);
        // target(r1): return r1 + 1 (r2-r5 start at zero: r2 + r1 + 1)
        VmProgram target = prog("target", new Asm().mov64Reg(R0, R1).alu64(AluOp.ADD, R0, R2).add64(R0, 1).exit(), jt);
        ((ProgArrayMap) jt).set(1, target);
        VmContext ctx = new VmContext();
        assertEquals(42, vm.run(main, ctx, 41, 1, 0, 0, 0));
        assertEquals(5 + 4, ctx.lastRunInstructions(), "the caller's instructions up to the call, then the target's");
        assertEquals(77, vm.run(main, ctx, 41, 0, 0, 0, 0), "empty slot: falls through");
        assertEquals(77, vm.run(main, ctx, 41, 4, 0, 0, 0), "index past the end: falls through");
        assertEquals(77, vm.run(main, ctx, 41, 1L << 32 | 9, 0, 0, 0), "the index is a u32: 2^32 + 9 is 9, past the end");
        assertEquals(42, vm.run(main, ctx, 41, 1L << 32 | 1, 0, 0, 0), "the index is a u32: 2^32 + 1 is 1");
        // a tail call goes on with what is left of the budget
        ctx.setBudget(7);
        VmFault f = assertThrows(VmFault.class, () -> vm.run(main, ctx, 41, 1, 0, 0, 0));
        assertEquals(VmFault.Kind.BUDGET, f.kind());
        assertEquals("target", f.program());
    }

    @ParameterizedTest
    @EnumSource(EngineKind.class)
    void tailCallsFromFunctionsOtherThanTheMainOneFault(EngineKind kind) throws Exception {
        VmMap jt = progArray();
        VmProgram p = prog("sub", new Asm().callLocal("f").exit()
                .label("f").mov64(R3, 0).ldMap(R2, 0).call(StandardHelpers.TAIL_CALL).ret(1), jt);
        ((ProgArrayMap) jt).set(0, p);
        VmFault f = assertThrows(VmFault.class, () -> kind.create().run(p, new VmContext(), 0, 0, 0, 0, 0));
        assertTrue(f.getMessage().contains("main function only"), f.getMessage());
    }

    @Test
    void progArrayUserFaceFollowsTheKernel() throws Exception {
        ProgArrayMap jt = (ProgArrayMap) progArray();
        VmProgram t = prog("t", new Asm().ret(0));
        jt.setResolver(id -> id == t.id() ? t : null);
        byte[] k1 = {1, 0, 0, 0};
        jt.update(k1, le32(t.id()), VmMap.BPF_ANY);
        assertArrayEquals(le32(t.id()), jt.lookup(k1));
        assertEquals(dev.ublkctl.sys.Errno.EINVAL, assertThrows(dev.ublkctl.bpf.maps.MapException.class,
                () -> jt.update(k1, le32(t.id()), VmMap.BPF_NOEXIST)).errno());
        assertEquals(dev.ublkctl.sys.Errno.EBADF, assertThrows(dev.ublkctl.bpf.maps.MapException.class,
                () -> jt.update(k1, le32(t.id() + 1000), VmMap.BPF_ANY)).errno());
        assertEquals(dev.ublkctl.sys.Errno.E2BIG, assertThrows(dev.ublkctl.bpf.maps.MapException.class,
                () -> jt.update(new byte[]{4, 0, 0, 0}, le32(t.id()), VmMap.BPF_ANY)).errno());
        jt.delete(k1);
        assertEquals(dev.ublkctl.sys.Errno.ENOENT, assertThrows(dev.ublkctl.bpf.maps.MapException.class, () -> jt.delete(k1)).errno());
        assertThrows(IllegalArgumentException.class, () -> MapDef.of("jt", MapType.PROG_ARRAY, 4, 8, 4));
    }

    @ParameterizedTest
    @EnumSource(EngineKind.class)
    void spinLockExcludesConcurrentRuns(EngineKind kind) throws Exception {
        BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes("test/features"), "features");
        List<VmMap> maps = VmLoader.createMaps(obj, 1);
        ExecutionEngine engine = kind.create();
        VmProgram p = VmLoader.prepare(obj.program("sl_prog").orElseThrow(), maps, FunctionRegistry.standard());
        int threads = 2, runs = 20_000;
        byte[] frame = new byte[16];
        frame[1] = 3;
        List<Thread> ts = new java.util.ArrayList<>();
        java.util.concurrent.atomic.AtomicReference<Throwable> error = new java.util.concurrent.atomic.AtomicReference<>();
        for (int t = 0; t < threads; t++) {
            ts.add(Thread.ofPlatform().start(() -> {
                PacketRunner r = new PacketRunner(engine);
                try {
                    for (int i = 0; i < runs; i++) r.run(p, ProgramType.XDP, frame, 1);
                } catch (Throwable e) {
                    error.set(e);
                }
            }));
        }
        for (Thread t : ts) t.join();
        assertNull(error.get());
        byte[] v = maps.get(obj.mapIndex("sl_map")).lookup(new byte[4]);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(v).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertEquals(0, b.getInt(0), "unlocked at the end");
        assertEquals(threads * runs, b.getInt(4), "no increment lost");
        assertEquals(3L * threads * runs, b.getLong(8), "no sum lost");
    }

    @ParameterizedTest
    @EnumSource(EngineKind.class)
    void spinLockRulesAreEnforced(EngineKind kind) throws Exception {
        ExecutionEngine vm = kind.create();
        VmMap m = VmMap.create(MapDef.of("v", MapType.ARRAY, 4, 16, 1), 1);
        // r6 = &v[0]; lock(r6); [body]; exit
        java.util.function.Function<String, Asm> with = body -> {
            Asm a = new Asm().st(Size.W, R10, -4, 0).mov64Reg(R2, R10).add64(R2, -4).ldMap(R1, 0).call(StandardHelpers.MAP_LOOKUP_ELEM)
                    .jmpImm(JmpOp.JEQ, R0, 0, "out").mov64Reg(R6, R0).mov64Reg(R1, R6).call(StandardHelpers.SPIN_LOCK);
            switch (body) {
                case "twice" -> a.mov64Reg(R1, R6).call(StandardHelpers.SPIN_LOCK);
                case "unlock-other" -> a.mov64Reg(R1, R6).add64(R1, 4).call(StandardHelpers.SPIN_UNLOCK);
                case "unlock" -> a.mov64Reg(R1, R6).call(StandardHelpers.SPIN_UNLOCK);
                case "stack" -> a.mov64Reg(R1, R6).call(StandardHelpers.SPIN_UNLOCK).mov64Reg(R1, R10).add64(R1, -8)
                        .call(StandardHelpers.SPIN_LOCK);
                default -> { }
            }
            return a.label("out").ret(0);
        };
        VmContext ctx = new VmContext();
        assertTrue(assertThrows(VmFault.class, () -> vm.run(prog("l", with.apply("twice"), m), ctx, 0, 0, 0, 0, 0))
                .getMessage().contains("one at a time"));
        assertTrue(assertThrows(VmFault.class, () -> vm.run(prog("l", with.apply("unlock-other"), m), ctx, 0, 0, 0, 0, 0))
                .getMessage().contains("does not hold"));
        VmFault held = assertThrows(VmFault.class, () -> vm.run(prog("l", with.apply("none"), m), ctx, 0, 0, 0, 0, 0));
        assertTrue(held.getMessage().contains("exited holding a bpf_spin_lock"), held.getMessage());
        assertTrue(assertThrows(VmFault.class, () -> vm.run(prog("l", with.apply("stack"), m), ctx, 0, 0, 0, 0, 0))
                .getMessage().contains("not in a map value"));
        // every fault above let go of the lock: a well-formed run gets it at once
        assertEquals(0, vm.run(prog("l", with.apply("unlock"), m), ctx, 0, 0, 0, 0, 0));
        assertArrayEquals(new byte[16], m.lookup(new byte[4]));
    }

    @ParameterizedTest
    @EnumSource(EngineKind.class)
    void ringBufferRecordsMustBeReleased(EngineKind kind) throws Exception {
        ExecutionEngine vm = kind.create();
        RingBufMap rb = (RingBufMap) VmMap.create(new MapDef("rb", MapType.RINGBUF, 0, 0, 4096, 0), 1);
        VmContext ctx = new VmContext();
        // reserve 16 bytes, write r2 into them, then: r3 == 0 submit, 1 discard, 2 keep, 3 submit twice, 4 submit r10
        VmProgram p = prog("rbp", new Asm().mov64Reg(R6, R2).mov64Reg(R7, R3).ldMap(R1, 0).mov64(R2, 16).mov64(R3, 0)
                .call(StandardHelpers.RINGBUF_RESERVE).jmpImm(JmpOp.JNE, R0, 0, "got").ret(-1)
                .label("got").stx(Size.DW, R0, 0, R6).mov64Reg(R8, R0).mov64Reg(R1, R0).mov64(R2, 0)
                .jmpImm(JmpOp.JEQ, R7, 2, "done").jmpImm(JmpOp.JEQ, R7, 1, "discard").jmpImm(JmpOp.JNE, R7, 4, "submit")
                .mov64Reg(R1, R10).add64(R1, -8)
                .label("submit").call(StandardHelpers.RINGBUF_SUBMIT).jmpImm(JmpOp.JNE, R7, 3, "done")
                .mov64Reg(R1, R8).mov64(R2, 0).call(StandardHelpers.RINGBUF_SUBMIT).ja("done")
                .label("discard").call(StandardHelpers.RINGBUF_DISCARD)
                .label("done").ret(0), rb);
        assertEquals(0, vm.run(p, ctx, 0, 0x1111, 0, 0, 0));
        assertEquals(0, vm.run(p, ctx, 0, 0x2222, 1, 0, 0));
        VmFault kept = assertThrows(VmFault.class, () -> vm.run(p, ctx, 0, 0x3333, 2, 0, 0));
        assertTrue(kept.getMessage().contains("neither submitted nor discarded"), kept.getMessage());
        VmFault twice = assertThrows(VmFault.class, () -> vm.run(p, ctx, 0, 0x4444, 3, 0, 0));
        assertTrue(twice.getMessage().contains("not a ring buffer record this run reserved"), twice.getMessage());
        assertThrows(VmFault.class, () -> vm.run(p, ctx, 0, 0x5555, 4, 0, 0));
        List<RingBufMap.Record> recs = rb.consume();
        assertEquals(5, recs.size(), "a record left behind is discarded, not left busy for ever");
        assertFalse(recs.get(0).discarded());
        assertEquals(0x1111, java.nio.ByteBuffer.wrap(recs.get(0).sample()).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
        assertTrue(recs.get(1).discarded());
        assertTrue(recs.get(2).discarded(), "kept by a faulting run: discarded");
        assertFalse(recs.get(3).discarded(), "the first submit of the twice-submitted record counts");
        assertTrue(recs.get(4).discarded(), "submit of a stack pointer faulted: its record is discarded");
        assertEquals(rb.producerPosition(), rb.consumerPosition());
        assertEquals(5 * 24, rb.producerPosition());
    }

    @Test
    void ringBufferSizesAndReservationLimitsFollowTheKernel() {
        assertThrows(IllegalArgumentException.class, () -> new MapDef("rb", MapType.RINGBUF, 0, 0, 4096 * 3, 0));
        assertThrows(IllegalArgumentException.class, () -> new MapDef("rb", MapType.RINGBUF, 0, 0, 2048, 0));
        assertThrows(IllegalArgumentException.class, () -> new MapDef("rb", MapType.RINGBUF, 4, 0, 4096, 0));
        RingBufMap rb = (RingBufMap) VmMap.create(new MapDef("rb", MapType.RINGBUF, 0, 0, 4096, 0), 1);
        assertEquals(-1, rb.reserve(4096 - 8), "a record may not fill the whole area");
        long a = rb.reserve(4096 - 16);
        assertEquals(0, a);
        assertEquals(-1, rb.reserve(0), "full until consumed");
        rb.commit(a, false);
        assertEquals(-1, rb.reserve(0), "committed but not consumed is still full");
        assertEquals(1, rb.consume().size());
        assertEquals(4096 - 8, rb.reserve(1), "size 1 takes 16 bytes, the area wraps");
        assertEquals(4096, rb.query(RingBufMap.RB_RING_SIZE));
        assertEquals(16, rb.query(RingBufMap.RB_AVAIL_DATA));
        assertEquals(0, rb.query(99));
    }

    @ParameterizedTest
    @EnumSource(EngineKind.class)
    void forEachMapElemRefusesFlagsAndOtherMapTypes(EngineKind kind) throws Exception {
        ExecutionEngine vm = kind.create();
        VmMap arr = VmMap.create(MapDef.of("a", MapType.ARRAY, 4, 8, 3), 1);
        VmMap rb = VmMap.create(new MapDef("rb", MapType.RINGBUF, 0, 0, 4096, 0), 1);
        Asm a = new Asm().mov64Reg(R4, R2).ldMap(R1, 0).jmpImm(JmpOp.JEQ, R3, 0, "go").ldMap(R1, 1)
                .label("go").ldFunc(R2, "cb").mov64(R3, 0).call(StandardHelpers.FOR_EACH_MAP_ELEM).exit()
                .label("cb").ldx(Size.W, R0, R2, 0).alu64Imm(AluOp.RSH, R0, 1).exit();   // stop at key 2
        VmProgram p = prog("fe", a, arr, rb);
        assertEquals(3, vm.run(p, new VmContext(), 0, 0, 0, 0, 0), "callbacks made, the stopping one included");
        assertEquals(-22, vm.run(p, new VmContext(), 0, 1, 0, 0, 0), "flags must be 0");
        assertThrows(VmFault.class, () -> vm.run(p, new VmContext(), 0, 0, 1, 0, 0));
    }

    static byte[] le32(int v) { return java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(v).array(); }
}
