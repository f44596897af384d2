package dev.ublkctl.bpf.vm;

import dev.ublkctl.bpf.insn.Opcodes;
import dev.ublkctl.bpf.kernel.Bpf;
import dev.ublkctl.bpf.kernel.BpfException;
import dev.ublkctl.bpf.kernel.KernelProgram;
import dev.ublkctl.bpf.object.ProgramType;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static dev.ublkctl.bpf.insn.Opcodes.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Encodings with a field the instruction does not use set to non-zero: the VM refuses them at
 * prepare time with the kernel's words, and the kernel (the oracle, where bpf(2) can load programs)
 * refuses the same bytes. Each case has a control, the same instruction with the field zero, that
 * both accept.
 */
class ReservedFieldsTest {

    /** One instruction to try, with the reserved field set ({@code bad}) and clear ({@code good}). */
    record Case(String name, long good, long bad, String why) {}

    static long enc(int opcode, int dst, int src, int off, int imm) { return Opcodes.encode(opcode, dst, src, off, imm); }

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        // r0 and r2 hold scalars (prologue), the stack slot at r10-8 is written
        c.add(new Case("add64 K with a source register", enc(ALU64 | ADD | K, 0, 0, 0, 1), enc(ALU64 | ADD | K, 0, 2, 0, 1), "BPF_ALU uses reserved fields"));
        c.add(new Case("add64 X with an immediate", enc(ALU64 | ADD | X, 0, 2, 0, 0), enc(ALU64 | ADD | X, 0, 2, 0, 7), "BPF_ALU uses reserved fields"));
        c.add(new Case("xor32 K with a source register", enc(ALU | XOR | K, 0, 0, 0, 3), enc(ALU | XOR | K, 0, 5, 0, 3), "BPF_ALU uses reserved fields"));
        c.add(new Case("lsh64 X with an immediate", enc(ALU64 | LSH | X, 0, 2, 0, 0), enc(ALU64 | LSH | X, 0, 2, 0, 1), "BPF_ALU uses reserved fields"));
        c.add(new Case("mov64 K with a source register", enc(ALU64 | MOV | K, 0, 0, 0, 5), enc(ALU64 | MOV | K, 0, 2, 0, 5), "BPF_MOV uses reserved fields"));
        c.add(new Case("mov32 X with an immediate", enc(ALU | MOV | X, 0, 2, 0, 0), enc(ALU | MOV | X, 0, 2, 0, 9), "BPF_MOV uses reserved fields"));
        c.add(new Case("neg64 with an immediate", enc(ALU64 | NEG | K, 0, 0, 0, 0), enc(ALU64 | NEG | K, 0, 0, 0, 1), "BPF_NEG uses reserved fields"));
        c.add(new Case("neg32 with a source register", enc(ALU | NEG | K, 0, 0, 0, 0), enc(ALU | NEG | K, 0, 2, 0, 0), "BPF_NEG uses reserved fields"));
        c.add(new Case("le16 with a source register", enc(ALU | END | TO_LE, 0, 0, 0, 16), enc(ALU | END | TO_LE, 0, 2, 0, 16), "BPF_END uses reserved fields"));
        c.add(new Case("be32 with an offset", enc(ALU | END | TO_BE, 0, 0, 0, 32), enc(ALU | END | TO_BE, 0, 0, 1, 32), "BPF_END uses reserved fields"));
        c.add(new Case("ja with a destination register", enc(JMP | JA, 0, 0, 0, 0), enc(JMP | JA, 1, 0, 0, 0), "BPF_JA uses reserved fields"));
        c.add(new Case("ja with an immediate", enc(JMP | JA, 0, 0, 0, 0), enc(JMP | JA, 0, 0, 0, 3), "BPF_JA uses reserved fields"));
        c.add(new Case("gotol with an offset", enc(JMP32 | JA, 0, 0, 0, 0), enc(JMP32 | JA, 0, 0, 2, 0), "BPF_JA uses reserved fields"));
        c.add(new Case("jeq K with a source register", enc(JMP | JEQ | K, 0, 0, 0, 1), enc(JMP | JEQ | K, 0, 2, 0, 1), "BPF_JMP/JMP32 uses reserved fields"));
        c.add(new Case("jgt X with an immediate", enc(JMP | JGT | X, 0, 2, 0, 0), enc(JMP | JGT | X, 0, 2, 0, 4), "BPF_JMP/JMP32 uses reserved fields"));
        c.add(new Case("jne32 K with a source register", enc(JMP32 | JNE | K, 0, 0, 0, 1), enc(JMP32 | JNE | K, 0, 2, 0, 1), "BPF_JMP/JMP32 uses reserved fields"));
        c.add(new Case("ldxdw with an immediate", enc(LDX | MEM | DW, 0, 10, -8, 0), enc(LDX | MEM | DW, 0, 10, -8, 1), "BPF_LDX uses reserved fields"));
        c.add(new Case("stdw with a source register", enc(ST | MEM | DW, 10, 0, -8, 5), enc(ST | MEM | DW, 10, 2, -8, 5), "BPF_ST uses reserved fields"));
        c.add(new Case("stxdw with an immediate", enc(STX | MEM | DW, 10, 2, -8, 0), enc(STX | MEM | DW, 10, 2, -8, 1), "BPF_STX uses reserved fields"));
        c.add(new Case("call with a destination register", enc(JMP | CALL, 0, 0, 0, 7), enc(JMP | CALL, 1, 0, 0, 7), "BPF_CALL uses reserved fields"));
        c.add(new Case("call with an offset", enc(JMP | CALL, 0, 0, 0, 7), enc(JMP | CALL, 0, 0, 1, 7), "BPF_CALL uses reserved fields"));
        return c;
    }

    /** prologue (r0 = 1, r2 = 2, *(u64 *)(r10 - 8) = 0), the instruction, r0 = 0, exit. */
    static long[] program(long insn) {
        return new long[]{enc(ALU64 | MOV | K, 0, 0, 0, 1), enc(ALU64 | MOV | K, 2, 0, 0, 2), enc(ST | MEM | DW, 10, 0, -8, 0),
                insn, enc(ALU64 | MOV | K, 0, 0, 0, 0), enc(JMP | EXIT, 0, 0, 0, 0)};
    }

    static String vm(long[] slots) {
        try {
            VmProgram.builder("reserved", slots).prepare();
            return null;
        } catch (VmFault f) {
            return f.getMessage();
        }
    }

    static byte[] bytes(long[] slots) {
        ByteBuffer b = ByteBuffer.allocate(slots.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long s : slots) b.putLong(s);
        return b.array();
    }

    /** Null if the kernel loads it, else its error; empty when the kernel cannot be asked here. */
    static java.util.Optional<String> kernel(long[] slots) {
        if (Bpf.unavailableReason() != null) return java.util.Optional.empty();
        try (KernelProgram p = Bpf.loadProgram(new Bpf.ProgramLoad(ProgramType.XDP, bytes(slots), "GPL", "reserved"))) {
            return java.util.Optional.of("");
        } catch (BpfException e) {
            return java.util.Optional.of(e.getMessage() == null ? "refused" : e.getMessage());
        }
    }

    @Test
    void theVmRefusesWhatTheKernelRefusesWithItsWords() {
        String why = Bpf.unavailableReason();
        if (why != null) System.out.println("ReservedFieldsTest: kernel side skipped: " + why);
        int kernelChecked = 0;
        for (Case c : cases()) {
            long[] good = program(c.good()), bad = program(c.bad());
            assertNull(vm(good), c.name() + ": the control prepares");
            String refusal = vm(bad);
            assertNotNull(refusal, c.name() + ": refused");
            assertTrue(refusal.contains(c.why()), c.name() + ": " + refusal);
            assertTrue(refusal.contains("instruction 3") || refusal.contains("insn 3") || refusal.contains(" 3"), c.name() + " names the instruction: " + refusal);
            var kg = kernel(good);
            var kb = kernel(bad);
            if (kg.isPresent()) {
                kernelChecked++;
                assertEquals("", kg.get(), c.name() + ": the kernel loads the control");
                assertNotEquals("", kb.orElseThrow(), c.name() + ": the kernel refuses it too");
                assertTrue(kb.get().contains(c.why()), c.name() + ": the kernel's words: " + kb.get());
            }
        }
        System.out.println("ReservedFieldsTest: " + cases().size() + " encodings, " + kernelChecked + " checked against the kernel");
    }

    @Test
    void exitWithAnImmediateIsRefused() {
        long[] p = {enc(ALU64 | MOV | K, 0, 0, 0, 0), enc(JMP | EXIT, 0, 0, 0, 1)};
        assertTrue(vm(p).contains("BPF_EXIT uses reserved fields"), vm(p));
        kernel(p).ifPresent(k -> assertTrue(k.contains("BPF_EXIT uses reserved fields"), k));
    }
}
