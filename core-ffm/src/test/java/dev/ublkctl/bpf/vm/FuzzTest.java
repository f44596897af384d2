package dev.ublkctl.bpf.vm;

import dev.ublkctl.bpf.testing.FuzzRounds;
import static org.junit.jupiter.api.Assertions.*;

import dev.ublkctl.bpf.insn.Opcodes;
import dev.ublkctl.bpf.maps.MapDef;
import dev.ublkctl.bpf.maps.MapType;
import dev.ublkctl.bpf.maps.VmMap;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** Random programs, seeded: the only outcomes allowed are a result or a {@link VmFault}. */
class FuzzTest {
    static final int[] OPCODES;
    static {
        // every opcode byte the decoder may accept, so most generated programs get past preparation
        java.util.List<Integer> ops = new java.util.ArrayList<>();
        for (int op = 0; op < 256; op++) {
            int cls = op & 7;
            if (cls == Opcodes.LD && op != Opcodes.LDDW) continue;
            ops.add(op);
        }
        OPCODES = ops.stream().mapToInt(Integer::intValue).toArray();
    }

    static final int[] IMMS = {0, 1, -1, 2, 7, 8, 16, 31, 32, 63, 64, 0x7fffffff, 0x80000000, 1, 0xe1, 0xf1, 0x01, 0x41, 0xa1, 0x100, 0x110};

    static long randomSlot(Random r, int len, int i) {
        int op = OPCODES[r.nextInt(OPCODES.length)];
        int dst = r.nextInt(10) + (r.nextInt(20) == 0 ? 1 : 0);
        int src = r.nextInt(11);
        int off;
        int cls = op & 7;
        if (cls == Opcodes.JMP || cls == Opcodes.JMP32) off = r.nextInt(Math.max(1, len - i)) - r.nextInt(3);
        else if (cls == Opcodes.LDX || cls == Opcodes.ST || cls == Opcodes.STX) off = r.nextBoolean() ? -8 * (1 + r.nextInt(64)) : r.nextInt(32);
        else off = r.nextInt(8) == 0 ? (new int[]{1, 8, 16, 32})[r.nextInt(4)] : 0;
        int imm = r.nextBoolean() ? IMMS[r.nextInt(IMMS.length)] : r.nextInt();
        if (op == (Opcodes.JMP | Opcodes.CALL)) {
            src = r.nextInt(3);
            imm = src == 0 ? 1 + r.nextInt(8) : src == 1 ? r.nextInt(Math.max(1, len - i)) - 1 : r.nextInt(2);
        }
        if (op == Opcodes.LDDW) src = r.nextInt(3);
        long raw = Opcodes.encode(op, dst, src, off, imm);
        // mostly the kernel's encoding (unused fields zero, or preparation refuses it); now and then not
        return r.nextInt(20) == 0 ? raw : canonical(raw);
    }

    /** {@code raw} with the fields its instruction does not use cleared, as clang and the kernel have them. */
    static long canonical(long raw) {
        int op = Opcodes.opcode(raw), dst = Opcodes.dst(raw), src = Opcodes.src(raw), off = Opcodes.off(raw), imm = Opcodes.imm(raw);
        int cls = op & 7, code = op & 0xf0;
        boolean x = (op & Opcodes.X) != 0;
        switch (cls) {
            case Opcodes.ALU, Opcodes.ALU64 -> {
                if (code == Opcodes.NEG) { src = 0; off = 0; imm = 0; }
                else if (code == Opcodes.END) { src = 0; off = 0; }
                else if (x) imm = 0;
                else { src = 0; if (code == Opcodes.MOV) off = 0; }
            }
            case Opcodes.JMP, Opcodes.JMP32 -> {
                if (code == Opcodes.JA) { src = 0; dst = 0; if (cls == Opcodes.JMP) imm = 0; else off = 0; }
                else if (code == Opcodes.EXIT) { src = 0; dst = 0; imm = 0; }
                else if (code == Opcodes.CALL) { dst = 0; if (src != 2) off = 0; }
                else if (x) imm = 0;
                else src = 0;
            }
            case Opcodes.LDX -> imm = 0;
            case Opcodes.ST -> src = 0;
            case Opcodes.STX -> { if ((op & 0xe0) == Opcodes.MEM) imm = 0; }
            case Opcodes.LD -> off = 0;
            default -> { }
        }
        return Opcodes.encode(op, dst, src, off, imm);
    }

    @Test
    void randomInstructionStreamsEndInAResultOrAFault() {
        Random r = new Random(0x5eed);
        FunctionRegistry reg = FunctionRegistry.standard();
        reg.register("fz_a", (c, a, b, d, e, f) -> a ^ b);
        reg.register("fz_b", (c, a, b, d, e, f) -> c.load(a, 4));
        VmMap arr = VmMap.create(MapDef.of("arr", MapType.ARRAY, 4, 16, 4), 1);
        VmMap hash = VmMap.create(MapDef.of("hash", MapType.HASH, 4, 8, 4), 1);
        Interpreter vm = new Interpreter();
        VmContext ctx = new VmContext();
        ctx.setBudget(5_000);
        byte[] mem = new byte[64];
        int prepared = 0, results = 0, faults = 0;
        for (int n = 0; n < FuzzRounds.of(4000); n++) {
            int len = 1 + r.nextInt(40);
            long[] slots = new long[len];
            for (int i = 0; i < len; i++) {
                // mostly valid instructions (retry until one decodes), now and then anything
                long slot = randomSlot(r, len, i);
                for (int t = 0; t < 20 && r.nextInt(50) != 0; t++) {
                    if (!(dev.ublkctl.bpf.insn.Decoder.decode(new long[]{slot, 0}, 0) instanceof dev.ublkctl.bpf.insn.Instruction.Unknown)) break;
                    slot = randomSlot(r, len, i);
                }
                slots[i] = slot;
                if (Opcodes.opcode(slot) == Opcodes.LDDW && i + 1 < len) slots[++i] = (long) r.nextInt(3) << 32;
            }
            if (r.nextBoolean()) slots[len - 1] = Opcodes.encode(0x95, 0, 0, 0, 0);
            VmProgram p;
            try {
                p = VmProgram.builder("fuzz" + n, slots).registry(reg).maps(List.of(arr, hash))
                        .kfuncs(List.of("fz_a", "fz_b")).prepare();
            } catch (VmFault f) {
                assertEquals(VmFault.Kind.PREPARE, f.kind());
                continue;
            } catch (Throwable t) {
                throw new AssertionError("prepare of program " + n + " threw " + t, t);
            }
            prepared++;
            try {
                r.nextBytes(mem);
                vm.runWithContext(p, ctx, MemorySegment.ofArray(mem), true);
                results++;
            } catch (VmFault f) {
                faults++;
                assertNotNull(f.getMessage());
                assertTrue(f.insnIndex() >= 0 && f.insnIndex() <= len, f.getMessage());
                assertNotEquals(VmFault.Kind.INTERNAL, f.kind(), f.getMessage());
            } catch (Throwable t) {
                throw new AssertionError("run of program " + n + " threw " + t, t);
            }
        }
        System.out.printf("fuzz: %d prepared, %d results, %d faults%n", prepared, results, faults);
        assertTrue(prepared > 400, "the generator should produce many valid programs, got " + prepared);
        assertTrue(results > 50 && faults > 50, results + " results, " + faults + " faults");
    }

    @Test
    void randomBytesEndInAResultOrAFault() {
        Random r = new Random(7);
        Interpreter vm = new Interpreter();
        VmContext ctx = new VmContext();
        ctx.setBudget(2_000);
        for (int n = 0; n < FuzzRounds.of(4000); n++) {
            byte[] code = new byte[8 * (1 + r.nextInt(16))];
            r.nextBytes(code);
            try {
                VmProgram p = VmProgram.builder("bytes" + n, code).prepare();
                vm.run(p, ctx, r.nextLong(), r.nextLong(), 0, 0, 0);
            } catch (VmFault expected) {
                assertNotNull(expected.getMessage());
            } catch (Throwable t) {
                throw new AssertionError("program " + n + " threw " + t, t);
            }
        }
    }
}
