package dev.ublkctl.bpf.insn;

import dev.ublkctl.bpf.insn.Instruction.*;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.ProgramSpec;
import dev.ublkctl.bpf.testing.BpfObjects;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** {@link Encoder} is the inverse of {@link Decoder}: what the loader patches is what the VM and the kernel read. */
class EncoderTest {

    /** One instruction of every kind and variant the decoder knows. */
    static List<Instruction> everyKind() {
        List<Instruction> l = new ArrayList<>();
        for (boolean wide : new boolean[]{true, false}) {
            int cls = wide ? Opcodes.ALU64 : Opcodes.ALU;
            for (AluOp op : AluOp.values()) {
                for (boolean x : new boolean[]{false, true}) {
                    if (op == AluOp.NEG && x) continue;
                    if (op == AluOp.MOVSX && !x) continue;
                    int off = switch (op) { case SDIV, SMOD -> 1; case MOVSX -> 16; default -> 0; };
                    l.add(new Alu(cls | op.code | (x ? Opcodes.X : Opcodes.K), wide, op, x, 3, x ? 4 : 0, off, x ? 0 : -7));
                }
            }
            int jcls = wide ? Opcodes.JMP : Opcodes.JMP32;
            for (JmpOp op : JmpOp.values()) {
                l.add(new Jump(jcls | op.code | Opcodes.K, wide, op, false, 1, 0, -5, 42));
                l.add(new Jump(jcls | op.code | Opcodes.X, wide, op, true, 1, 2, 9, 0));
            }
        }
        for (int w : new int[]{16, 32, 64}) {
            l.add(new ByteSwap(Opcodes.ALU | Opcodes.END | Opcodes.TO_LE, SwapKind.LE, w, 5));
            l.add(new ByteSwap(Opcodes.ALU | Opcodes.END | Opcodes.TO_BE, SwapKind.BE, w, 5));
            l.add(new ByteSwap(Opcodes.ALU64 | Opcodes.END, SwapKind.BSWAP, w, 5));
        }
        l.add(new Goto(Opcodes.JMP | Opcodes.JA, false, -3));
        l.add(new Goto(Opcodes.JMP32 | Opcodes.JA, true, 70_000));
        for (ImmKind k : ImmKind.values()) l.add(new LoadImm64(2, k, 0x1234_5678_9abc_def0L));
        for (Size s : Size.values()) {
            l.add(new Load(Opcodes.LDX | Opcodes.MEM | s.field(), s, false, 0, 10, -8));
            if (s != Size.DW) l.add(new Load(Opcodes.LDX | Opcodes.MEMSX | s.field(), s, true, 0, 10, -8));
            l.add(new Store(Opcodes.ST | Opcodes.MEM | s.field(), s, false, 10, 0, -16, 99));
            l.add(new Store(Opcodes.STX | Opcodes.MEM | s.field(), s, true, 10, 6, -16, 0));
        }
        for (AtomicOp op : AtomicOp.values()) {
            boolean ordered = op == AtomicOp.LOAD_ACQUIRE || op == AtomicOp.STORE_RELEASE;
            for (Size s : ordered ? Size.values() : new Size[]{Size.W, Size.DW})
                l.add(new Atomic(Opcodes.STX | Opcodes.ATOMIC | s.field(), s, op, 1, 2, 8));
        }
        for (CallKind k : CallKind.values()) l.add(new Call(k, 3));
        l.add(new Exit());
        return l;
    }

    @Test
    void everyKindOfInstructionSurvivesEncodeThenDecode() {
        List<Instruction> all = everyKind();
        long[] slots = Encoder.encode(all);
        assertEquals(all, Decoder.decodeAll(slots).instructions());
        for (Instruction i : all) {
            assertFalse(Decoder.decode(Encoder.encode(i), 0) instanceof Unknown, i::toString);
            assertEquals(i.slots(), Encoder.encode(i).length, i::toString);
        }
    }

    @Test
    void everyLinkedProgramOfEveryShippedObjectSurvivesDecodeThenEncode() throws Exception {
        int programs = 0, insns = 0;
        for (String name : BpfObjects.bundledNames()) {
            BpfObject obj = BpfObject.load(BpfObjects.bundled(name));
            for (ProgramSpec p : obj.programs()) {
                long[] slots = Decoder.slots(p.insns());
                var listing = Decoder.decodeAll(slots);
                for (Instruction i : listing.instructions()) assertFalse(i instanceof Unknown, name + "/" + p.name() + ": " + i);
                assertArrayEquals(slots, Encoder.encode(listing.instructions()), name + "/" + p.name());
                programs++;
                insns += listing.instructions().size();
            }
        }
        assertTrue(programs >= 10 && insns > 500, programs + " programs, " + insns + " instructions");
    }

    @Test
    void theLoaderPatchesTheSrcValuesOfTheOneTable() {
        // what the linker writes for a map, a global, a function, a local call and a kfunc call
        assertEquals(1, Opcodes.src(Encoder.encode(new LoadImm64(1, ImmKind.MAP, 0))[0]));
        assertEquals(2, Opcodes.src(Encoder.encode(new LoadImm64(1, ImmKind.MAP_VALUE, 0))[0]));
        assertEquals(4, Opcodes.src(Encoder.encode(new LoadImm64(1, ImmKind.FUNC, 0))[0]));
        assertEquals(1, Opcodes.src(Encoder.encode(new Call(CallKind.LOCAL, 5))[0]));
        assertEquals(2, Opcodes.src(Encoder.encode(new Call(CallKind.KFUNC, 0))[0]));
        for (ImmKind k : ImmKind.values()) assertEquals(k, ImmKind.ofSrc(k.src));
        for (CallKind k : CallKind.values()) assertEquals(k, CallKind.ofSrc(k.src));
        assertNull(ImmKind.ofSrc(3));
        assertNull(CallKind.ofSrc(3));
    }
}
