package dev.ublkctl.bpf.vm;

import dev.ublkctl.bpf.insn.Decoder;
import dev.ublkctl.bpf.insn.Encoder;
import dev.ublkctl.bpf.insn.Instruction;
import dev.ublkctl.bpf.insn.Instruction.*;
import dev.ublkctl.bpf.insn.Opcodes;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The uop numbering is Uop's own table: every variant lands on its named constant, none twice. */
class UopTest {

    private static Instruction jump(JmpOp op, boolean wide, boolean x) {
        return Decoder.decode(Encoder.encode(new Jump(0, wide, op, x, 1, x ? 2 : 0, 1, 0)), 0);
    }

    private static Instruction atomic(AtomicOp op, Size s) {
        return Decoder.decode(Encoder.encode(new Atomic(0, s, op, 1, 2, 0)), 0);
    }

    @Test
    void jumpsAndAtomicsLandOnTheirNamedUops() {
        assertEquals(Uop.JEQ_K, Uop.of(jump(JmpOp.JEQ, true, false)));
        assertEquals(Uop.JEQ32_X, Uop.of(jump(JmpOp.JEQ, false, true)));
        assertEquals(Uop.JSET_X, Uop.of(jump(JmpOp.JSET, true, true)));
        assertEquals(Uop.JLT32_K, Uop.of(jump(JmpOp.JLT, false, false)));
        assertEquals(Uop.JSLE32_X, Uop.of(jump(JmpOp.JSLE, false, true)));
        assertEquals(Uop.A32_ADD, Uop.of(atomic(AtomicOp.ADD, Size.W)));
        assertEquals(Uop.A32_FXOR, Uop.of(atomic(AtomicOp.FETCH_XOR, Size.W)));
        assertEquals(Uop.A64_XCHG, Uop.of(atomic(AtomicOp.XCHG, Size.DW)));
        assertEquals(Uop.A64_CMPXCHG, Uop.of(atomic(AtomicOp.CMPXCHG, Size.DW)));
        assertEquals(Uop.LDACQ_H, Uop.of(atomic(AtomicOp.LOAD_ACQUIRE, Size.H)));
        assertEquals(Uop.STREL_DW, Uop.of(atomic(AtomicOp.STORE_RELEASE, Size.DW)));
    }

    @Test
    void everyJumpAndAtomicVariantHasItsOwnUop() {
        Map<Integer, Instruction> seen = new HashMap<>();
        for (JmpOp op : JmpOp.values())
            for (boolean wide : new boolean[]{true, false})
                for (boolean x : new boolean[]{true, false}) {
                    Instruction i = jump(op, wide, x);
                    Instruction before = seen.put(Uop.of(i), i);
                    assertNull(before, i + " and " + before);
                    assertTrue(Uop.of(i) >= Uop.JBASE && Uop.of(i) < Uop.JA, i::toString);
                }
        for (AtomicOp op : AtomicOp.values())
            for (Size s : Size.values()) {
                Instruction i = atomic(op, s);
                if (i instanceof Unknown) continue;
                Instruction before = seen.put(Uop.of(i), i);
                assertNull(before, i + " and " + before);
                assertTrue(Uop.of(i) >= Uop.A32_ADD && Uop.of(i) < Uop.END_OF_PROGRAM, i::toString);
            }
        assertEquals(Opcodes.JMP | Opcodes.EXIT, new Exit().opcode());
    }
}
