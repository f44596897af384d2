package dev.ublkctl.bpf.vm;

import static org.junit.jupiter.api.Assertions.*;

import dev.ublkctl.bpf.insn.Decoder;
import dev.ublkctl.bpf.insn.Disassembler;
import dev.ublkctl.bpf.insn.Instruction;
import dev.ublkctl.bpf.insn.Opcodes;
import dev.ublkctl.bpf.jit.Compilation;
import dev.ublkctl.bpf.jit.JitEngine;
import dev.ublkctl.bpf.maps.MapDef;
import dev.ublkctl.bpf.maps.MapType;
import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.ProgramSpec;
import dev.ublkctl.bpf.testing.BpfObjects;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * The JIT against the interpreter on random and mutated programs: every run must give the same r0,
 * memory (context, stacks, maps), instruction count, or the same fault (kind, index, message).
 * Any difference is a bug in one engine. The seed is printed; {@code -Djit.fuzz.seed=S} reproduces a
 * run, {@code -Djit.fuzz.rounds=N} (default: until 100,000 streams passed preparation and ran on both) and {@code -Djit.fuzz.objectRounds=N}
 * (default 5,000 mutated object programs) and {@code -Djit.fuzz.splitRounds=N} (default 500 programs split into
 * several methods) make a longer sweep.
 */
class JitDifferentialFuzzTest {
    static final long SEED = Long.getLong("jit.fuzz.seed", 0x1eb9f00dL);
    static final int ROUNDS = Integer.getInteger("jit.fuzz.rounds", 100_000);
    static final int OBJECT_ROUNDS = Integer.getInteger("jit.fuzz.objectRounds", 5_000);

    static final ExecutionEngine INTERP = new Interpreter(), JIT = new JitEngine();

    /** What one run left behind, comparable between engines. */
    record Outcome(String result, long instructions, byte[] memory, byte[] stacks, String maps) {
        String diff(Outcome o) {
            if (!result.equals(o.result)) return "result: " + result + " vs " + o.result;
            if (instructions != o.instructions) return "instructions: " + instructions + " vs " + o.instructions;
            if (!Arrays.equals(memory, o.memory)) return "memory: " + hex(memory) + " vs " + hex(o.memory);
            if (!Arrays.equals(stacks, o.stacks)) return "stacks differ at byte " + Arrays.mismatch(stacks, o.stacks);
            if (!maps.equals(o.maps)) return "maps: " + maps + " vs " + o.maps;
            return null;
        }
    }

    static String hex(byte[] b) { return HexFormat.of().formatHex(b); }

    static String describe(VmFault f) {
        return "fault " + f.kind() + " @" + f.insnIndex() + ": " + f.getMessage();
    }

    static byte[] stacks(VmContext ctx) {
        byte[] all = new byte[VmContext.STACK_SIZE * VmContext.MAX_FRAMES];
        for (int f = 0; f < VmContext.MAX_FRAMES; f++)
            MemorySegment.copy(ctx.stackSegment(f), ValueLayout.JAVA_BYTE, 0, all, f * VmContext.STACK_SIZE, VmContext.STACK_SIZE);
        return all;
    }

    static String dumpMaps(List<VmMap> maps) {
        StringBuilder b = new StringBuilder();
        for (VmMap m : maps) {
            b.append(m.name()).append('{');
            byte[] k = null;
            while ((k = m.nextKey(k)) != null) b.append(hex(k)).append('=').append(hex(m.lookup(k))).append(' ');
            b.append('}');
        }
        return b.toString();
    }

    static List<VmMap> freshMaps() {
        return List.of(VmMap.create(MapDef.of("arr", MapType.ARRAY, 4, 16, 4), 1),
                VmMap.create(MapDef.of("hash", MapType.HASH, 4, 8, 4), 1));
    }

    static FunctionRegistry registry() {
        FunctionRegistry reg = FunctionRegistry.standard();
        reg.register("fz_a", (c, a, b, d, e, f) -> a ^ b * 31 + d);
        reg.register("fz_b", (c, a, b, d, e, f) -> c.load(a, 4));
        // helpers whose results must not depend on time or chance, so both engines see the same values
        reg.registerHelper(5, "bpf_ktime_get_ns", (c, a, b, d, e, f) -> 1_000_000);
        reg.registerHelper(7, "bpf_get_prandom_u32", (c, a, b, d, e, f) -> 0x1234567);
        reg.registerHelper(125, "bpf_ktime_get_boot_ns", (c, a, b, d, e, f) -> 2_000_000);
        return reg;
    }

    /** One context per engine, reused (its stacks zeroed before each run, so every run starts alike). */
    static final ThreadLocal<java.util.Map<String, VmContext>> CONTEXTS = ThreadLocal.withInitial(java.util.HashMap::new);

    static VmContext context(ExecutionEngine vm) {
        VmContext ctx = CONTEXTS.get().computeIfAbsent(vm.name() + System.identityHashCode(vm), k -> new VmContext());
        for (int f = 0; f < VmContext.MAX_FRAMES; f++) Arrays.fill(ctx.stackWords(f), 0);
        return ctx;
    }

    static Outcome runOnce(ExecutionEngine vm, VmProgram p, List<VmMap> maps, byte[] memInit, long budget) {
        VmContext ctx = context(vm);
        ctx.setBudget(budget);
        byte[] mem = memInit.clone();
        String result;
        try {
            result = "r0 " + Long.toHexString(vm.runWithContext(p, ctx, MemorySegment.ofArray(mem), true));
        } catch (VmFault f) {
            result = describe(f);
        } catch (Throwable t) {
            throw new AssertionError(vm.name() + " threw " + t, t);
        }
        return new Outcome(result, ctx.lastRunInstructions(), mem, stacks(ctx), dumpMaps(maps));
    }

    /** A random program in the spirit of {@link FuzzTest}, with callbacks (ld_imm64 src 4, bpf_loop) now and then. */
    static long[] randomProgram(Random r) { return randomProgram(r, 1 + r.nextInt(40)); }

    static long[] randomProgram(Random r, int len) {
        long[] slots = new long[len];
        for (int i = 0; i < len; i++) {
            long slot = FuzzTest.randomSlot(r, len, i);
            // mostly valid instructions; now and then anything (preparation must refuse it)
            for (int t = 0; t < 40 && r.nextInt(400) != 0; t++) {
                if (!(Decoder.decode(new long[]{slot, 0}, 0) instanceof Instruction.Unknown)) break;
                slot = FuzzTest.randomSlot(r, len, i);
            }
            if (r.nextInt(60) == 0) slot = Opcodes.encode(0x85, 0, 0, 0, 181);   // bpf_loop
            int op = Opcodes.opcode(slot), cls = op & 7;
            if ((cls == Opcodes.JMP || cls == Opcodes.JMP32) && op != 0x85 && op != 0x95 && r.nextInt(20) != 0) {
                int target = i + 1 + (short) (slot >>> 16);
                if (target < 0 || target >= len)   // keep most jumps inside the program
                    slot = (slot & ~0xffff0000L) | ((long) ((r.nextInt(len) - i - 1) & 0xffff) << 16);
            }
            slots[i] = slot;
            if (op == Opcodes.LDDW && i + 1 < len) {
                int src = (int) (slot >>> 12) & 0xf;
                if (r.nextInt(4) == 0) slots[i] = Opcodes.encode(Opcodes.LDDW, r.nextInt(10), 4, 0, r.nextInt(len) - i - 1);
                else if (src == 1 || src == 2) slots[i] = Opcodes.encode(Opcodes.LDDW, (int) (slot >>> 8) & 0xf, src, 0, r.nextInt(2));
                slots[++i] = (long) r.nextInt(3) << 32;
            }
        }
        if (r.nextBoolean()) slots[len - 1] = Opcodes.encode(0x95, 0, 0, 0, 0);
        return slots;
    }

    @Test
    void randomInstructionStreamsGiveIdenticalOutcomes() {
        System.out.printf("jit differential fuzz: seed 0x%x, until %d streams ran on both engines (-Djit.fuzz.seed / -Djit.fuzz.rounds)%n", SEED, ROUNDS);
        FunctionRegistry reg = registry();
        int prepared = 0, results = 0, faults = 0, compiled = 0, generated = 0;
        for (int n = 0; prepared < ROUNDS; n++) {
            long seed = SEED + n;
            Random r = new Random(seed);
            long[] slots = randomProgram(r);
            generated++;
            byte[] mem = new byte[64];
            r.nextBytes(mem);
            long budget = r.nextInt(8) == 0 ? 1 + r.nextInt(60) : 5_000;
            List<VmMap> mi = freshMaps(), mj = freshMaps();
            VmProgram pi, pj;
            try {
                pi = VmProgram.builder("fuzz" + n, slots).registry(reg).maps(mi).kfuncs(List.of("fz_a", "fz_b")).prepare();
                pj = VmProgram.builder("fuzz" + n, slots).registry(reg).maps(mj).kfuncs(List.of("fz_a", "fz_b")).prepare();
            } catch (VmFault f) {
                continue;
            }
            prepared++;
            if (JitEngine.compile(pj) instanceof Compilation.Compiled) compiled++;
            Outcome a = runOnce(INTERP, pi, mi, mem, budget);
            Outcome b = runOnce(JIT, pj, mj, mem, budget);
            String d = a.diff(b);
            if (d != null)
                fail(String.format("seed %d (round %d, budget %d): interpreter and JIT differ in %s%nmemory in %s%n%s",
                        seed, n, budget, d, hex(mem), new Disassembler().dump(Decoder.bytes(slots))));
            if (a.result.startsWith("r0")) results++; else faults++;
        }
        System.out.printf("jit differential fuzz: %d generated, %d prepared, %d compiled, %d results, %d faults, all identical%n",
                generated, prepared, compiled, results, faults);
        assertEquals(prepared, compiled, "small programs always compile");
        assertTrue(results > ROUNDS / 50 && faults > ROUNDS / 50, results + " results, " + faults + " faults");
    }

    /** Longer random programs on a JIT that splits them into methods of 1000 bytes: chunk crossings in every shape. */
    @Test
    void splitRandomProgramsGiveIdenticalOutcomes() {
        int rounds = Integer.getInteger("jit.fuzz.splitRounds", 500);
        System.out.printf("jit split fuzz: seed 0x%x, %d programs of 60..300 slots, methods of at most 1000 bytes%n", SEED, rounds);
        FunctionRegistry reg = registry();
        JitEngine small = JitEngine.withMethodLimit(1000);
        int prepared = 0, split = 0;
        for (int n = 0; n < rounds; n++) {
            long seed = SEED * 31 + n;
            Random r = new Random(seed);
            long[] slots = null;
            List<VmMap> mi = freshMaps(), mj = freshMaps();
            VmProgram pi = null, pj = null;
            for (int attempt = 0; attempt < 30 && pi == null; attempt++) {   // long programs often fail preparation
                slots = randomProgram(r, 60 + r.nextInt(240));
                try {
                    pi = VmProgram.builder("split" + n, slots).registry(reg).maps(mi).kfuncs(List.of("fz_a", "fz_b")).prepare();
                    pj = VmProgram.builder("split" + n, slots).registry(reg).maps(mj).kfuncs(List.of("fz_a", "fz_b")).prepare();
                } catch (VmFault f) {
                    pi = null;
                }
            }
            if (pi == null) continue;
            byte[] mem = new byte[64];
            r.nextBytes(mem);
            long budget = r.nextInt(4) == 0 ? 1 + r.nextInt(300) : 20_000;
            prepared++;
            if (small.compilation(pj) instanceof Compilation.Compiled c && c.bytecodeSize() > 1000) split++;
            Outcome a = runOnce(INTERP, pi, mi, mem, budget);
            Outcome b = runOnce(small, pj, mj, mem, budget);
            String d = a.diff(b);
            if (d != null)
                fail(String.format("seed %d (split round %d, budget %d): interpreter and split JIT differ in %s%nmemory in %s%n%s",
                        seed, n, budget, d, hex(mem), new Disassembler().dump(Decoder.bytes(slots))));
        }
        System.out.printf("jit split fuzz: %d prepared, %d split into several methods, all identical%n", prepared, split);
        assertTrue(split > prepared / 2, "most programs should be split: " + split + " of " + prepared);
    }

    /**
     * The clang-built programs with a few instructions mutated, entered as struct_ops on an io object
     * with deterministic Java kfuncs (or with a context, for socket/XDP/syscall programs).
     */
    @Test
    void mutatedObjectProgramsGiveIdenticalOutcomes() throws Exception {
        System.out.printf("jit object fuzz: seed 0x%x, %d mutations (-Djit.fuzz.objectRounds)%n", SEED, OBJECT_ROUNDS);
        List<ProgramSpec> specs = new ArrayList<>();
        List<BpfObject> objs = new ArrayList<>();
        for (String name : BpfObjects.bundledNames()) {
            BpfObject obj = BpfObject.parse(BpfObjects.bundledBytes(name), name);
            for (ProgramSpec p : obj.programs()) { specs.add(p); objs.add(obj); }
        }
        assertFalse(specs.isEmpty());
        int ran = 0, identical = 0;
        for (int n = 0; n < OBJECT_ROUNDS; n++) {
            long seed = SEED ^ (0x9E3779B97F4A7C15L * (n + 1));
            SplittableRandom rnd = new SplittableRandom(seed);
            int which = rnd.nextInt(specs.size());
            ProgramSpec spec = specs.get(which);
            long[] slots = Decoder.slots(spec.insns());
            if (n % 4 != 0) {   // every fourth round runs the program as built
                Random jr = new Random(seed);
                for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
                    int at = rnd.nextInt(slots.length);
                    slots[at] = rnd.nextBoolean() ? slots[at] ^ (1L << rnd.nextInt(64)) : FuzzTest.randomSlot(jr, slots.length, at);
                }
            }
            byte[] code = Decoder.bytes(slots);
            byte[] args = new byte[96];
            rnd.nextBytes(args);
            Outcome[] out = new Outcome[2];
            boolean prepared = true;
            for (int e = 0; e < 2 && prepared; e++) {
                List<VmMap> maps = VmLoader.createMaps(objs.get(which), 1);
                FunctionRegistry reg = registry();
                for (String k : spec.kfuncs()) reg.register(k, (c, a, b, d, x, f) -> (a * 7 + b) ^ k.length());
                VmProgram p;
                try {
                    p = VmProgram.builder(spec.name(), code).maps(maps).kfuncs(spec.kfuncs()).registry(reg)
                            .sourceLines(i -> spec.lineAt(i).map(ProgramSpec.LineInfo::toString).orElse(null)).prepare();
                } catch (VmFault f) {
                    prepared = false;
                    break;
                }
                out[e] = runStructOps(e == 0 ? INTERP : JIT, p, maps, args);
            }
            if (!prepared) continue;
            ran++;
            String d = out[0].diff(out[1]);
            if (d != null)
                fail(String.format("seed %d (round %d, program %s): interpreter and JIT differ in %s",
                        seed, n, spec.name(), d));
            identical++;
        }
        System.out.printf("jit object fuzz: %d programs ran on both engines, %d identical%n", ran, identical);
        assertTrue(ran > OBJECT_ROUNDS / 4, "most mutations should still prepare, got " + ran);
    }

    /** struct_ops entry: r1 points at (io region address, arg); the io region holds {@code args}. */
    static Outcome runStructOps(ExecutionEngine vm, VmProgram p, List<VmMap> maps, byte[] argsInit) {
        VmContext ctx = new VmContext();
        ctx.setBudget(200_000);
        byte[] io = argsInit.clone();
        String result;
        int mark = ctx.mark();
        try {
            long ioAddr = ctx.addRegion(io, true, "io");
            // the io object's first field points at a read-only descriptor inside it, as ublk_bpf_io does
            MemorySegment.ofArray(io).set(ValueLayout.JAVA_LONG_UNALIGNED, 0, ioAddr + 32);
            result = "r0 " + Long.toHexString(vm.runStructOps(p, ctx, ioAddr, io[8] & 0xf00));
        } catch (VmFault f) {
            result = describe(f);
        } catch (Throwable t) {
            throw new AssertionError(vm.name() + " threw " + t, t);
        } finally {
            ctx.release(mark);
        }
        return new Outcome(result, ctx.lastRunInstructions(), io, stacks(ctx), dumpMaps(maps));
    }
}
