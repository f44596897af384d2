package dev.ublkctl.bpf.vm;

import static dev.ublkctl.bpf.insn.Asm.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.ublkctl.bpf.insn.Asm;
import dev.ublkctl.bpf.insn.Instruction.AluOp;
import dev.ublkctl.bpf.insn.Instruction.AtomicOp;
import dev.ublkctl.bpf.insn.Instruction.JmpOp;
import dev.ublkctl.bpf.insn.Instruction.Size;
import dev.ublkctl.bpf.insn.Opcodes;
import dev.ublkctl.bpf.maps.MapDef;
import dev.ublkctl.bpf.maps.MapType;
import dev.ublkctl.bpf.maps.VmMap;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class InterpreterTest {
    /** The engine under test: the interpreter here, the JIT in the JitInterpreterTest subclass. */
    ExecutionEngine engine() { return new Interpreter(); }

    final ExecutionEngine VM = engine();

    long run(Asm a, long... r) throws VmFault {
        VmProgram p = VmProgram.builder("t", a.bytes()).prepare();
        long[] x = java.util.Arrays.copyOf(r, 5);
        return VM.run(p, new VmContext(), x[0], x[1], x[2], x[3], x[4]);
    }

    /** r0 = r1 OP r2 (64-bit) via a register source. */
    long alu64(AluOp op, long a, long b) throws VmFault {
        return run(new Asm().mov64Reg(R0, R1).alu64(op, R0, R2).exit(), a, b);
    }

    long alu32(AluOp op, long a, long b) throws VmFault {
        return run(new Asm().mov64Reg(R0, R1).alu32(op, R0, R2).exit(), a, b);
    }

    long alu64k(AluOp op, long a, int imm) throws VmFault {
        return run(new Asm().mov64Reg(R0, R1).alu64Imm(op, R0, imm).exit(), a);
    }

    long alu32k(AluOp op, long a, int imm) throws VmFault {
        return run(new Asm().mov64Reg(R0, R1).alu32Imm(op, R0, imm).exit(), a);
    }

    @Test
    void arithmetic64() throws VmFault {
        assertEquals(7, alu64(AluOp.ADD, 3, 4));
        assertEquals(-1, alu64(AluOp.SUB, 3, 4));
        assertEquals(12, alu64(AluOp.MUL, 3, 4));
        assertEquals(0x0fffffffffffffffL, alu64(AluOp.DIV, -1, 16), "unsigned division");
        assertEquals(0, alu64(AluOp.SDIV, -1, 16), "signed division truncates");
        assertEquals(-3, alu64(AluOp.SDIV, -7, 2));
        assertEquals(15, alu64(AluOp.MOD, -1, 16));
        assertEquals(-1, alu64(AluOp.SMOD, -7, 2), "signed mod takes the dividend's sign");
        assertEquals(0xf0 | 0x0f, alu64(AluOp.OR, 0xf0, 0x0f));
        assertEquals(0x10, alu64(AluOp.AND, 0x30, 0x11));
        assertEquals(0x21, alu64(AluOp.XOR, 0x30, 0x11));
        assertEquals(5, alu64(AluOp.MOV, 9, 5));
        assertEquals(-9, run(new Asm().mov64Reg(R0, R1).neg64(R0).exit(), 9));
    }

    @Test
    void immediatesAreSignExtendedIn64BitOps() throws VmFault {
        assertEquals(-1L, run(new Asm().mov64(R0, -1).exit()));
        assertEquals(0xffffffffL, run(new Asm().mov32(R0, -1).exit()));
        assertEquals(0, alu64k(AluOp.ADD, 1, -1));
        assertEquals(0, alu64k(AluOp.DIV, 5, -1), "imm -1 is 2^64-1 unsigned");
        assertEquals(-5, alu64k(AluOp.SDIV, 5, -1));
        assertEquals(0xffffffff80000000L, alu64k(AluOp.AND, -1, 0x80000000));
    }

    @Test
    void divisionAndModuloByZero() throws VmFault {
        assertEquals(0, alu64(AluOp.DIV, 42, 0));
        assertEquals(0, alu64(AluOp.SDIV, 42, 0));
        assertEquals(42, alu64(AluOp.MOD, 42, 0), "mod by zero leaves dst");
        assertEquals(-42, alu64(AluOp.SMOD, -42, 0));
        assertEquals(0, alu32(AluOp.DIV, 0x1_0000_0005L, 0));
        assertEquals(5, alu32(AluOp.MOD, 0x1_0000_0005L, 0), "32-bit mod by zero zero-extends dst");
        assertEquals(0xfffffffbL, alu32(AluOp.SMOD, -5, 0));
        assertEquals(0, alu32k(AluOp.DIV, 7, 0));
        assertEquals(7, alu64k(AluOp.MOD, 7, 0));
        // divisor is only the low 32 bits in 32-bit ops
        assertEquals(0, alu32(AluOp.DIV, 7, 0x1_0000_0000L));
    }

    @Test
    void signedOverflowDivision() throws VmFault {
        assertEquals(Long.MIN_VALUE, alu64(AluOp.SDIV, Long.MIN_VALUE, -1));
        assertEquals(0, alu64(AluOp.SMOD, Long.MIN_VALUE, -1));
        assertEquals(0x80000000L, alu32(AluOp.SDIV, Integer.MIN_VALUE, -1));
        assertEquals(0, alu32(AluOp.SMOD, Integer.MIN_VALUE, -1));
    }

    @Test
    void shiftsAreMaskedToTheWidth() throws VmFault {
        assertEquals(2, alu64(AluOp.LSH, 1, 65));
        assertEquals(1L << 63 >>> 63, alu64(AluOp.RSH, 1L << 63, 63));
        assertEquals(1L << 62, alu64(AluOp.RSH, 1L << 63, 65));
        assertEquals(-1, alu64(AluOp.ARSH, Long.MIN_VALUE, 63));
        assertEquals(2, alu32(AluOp.LSH, 1, 33));
        assertEquals(0x40000000L, alu32(AluOp.RSH, 0x80000000L, 33));
        assertEquals(0xffffffffL, alu32(AluOp.ARSH, 0x80000000L, 31), "32-bit arsh sign-fills then zero-extends");
        assertEquals(0xc0000000L, alu32k(AluOp.ARSH, 0xffffffff80000000L, 1));
    }

    @Test
    void thirtyTwoBitOpsWrapAndZeroExtend() throws VmFault {
        assertEquals(0, alu32(AluOp.ADD, 0xffffffffL, 1));
        assertEquals(0xffffffffL, alu32(AluOp.SUB, 0, 1));
        assertEquals(0x1L, alu32(AluOp.MUL, 0xffffffffL, 0xffffffffL));
        assertEquals(0x12345678L, alu32(AluOp.MOV, 0, 0xdead_beef_1234_5678L));
        assertEquals(0xffffffffL, alu32(AluOp.OR, 0xffff_ffff_0000_0000L, 0xffffffffL));
        assertEquals(0xfffffff7L, run(new Asm().mov64Reg(R0, R1).neg32(R0).exit(), 9));
        assertEquals(0x7fffffffL, alu32(AluOp.DIV, 0xfffffffeL, 2), "32-bit unsigned division");
        assertEquals(0xffffffffL, alu32(AluOp.SDIV, 0xfffffffeL, 2), "-2 / 2 = -1, zero-extended");
    }

    @ParameterizedTest
    @CsvSource({"8,0x80,-128", "16,0x8000,-32768", "32,0x80000000,-2147483648", "8,0x17f,127", "16,0x7fff,32767"})
    void movsx64(int bits, String value, long expected) throws VmFault {
        assertEquals(expected, run(new Asm().movsx64(R0, R1, bits).exit(), Long.decode(value)));
    }

    @Test
    void movsx32() throws VmFault {
        assertEquals(0xffffff80L, run(new Asm().movsx32(R0, R1, 8).exit(), 0x80));
        assertEquals(0xffff8000L, run(new Asm().movsx32(R0, R1, 16).exit(), 0x1234_8000L));
    }

    @Test
    void byteSwaps() throws VmFault {
        long v = 0x0102030405060708L;
        assertEquals(0x0807, run(new Asm().mov64Reg(R0, R1).be(R0, 16).exit(), v));
        assertEquals(0x08070605L, run(new Asm().mov64Reg(R0, R1).be(R0, 32).exit(), v));
        assertEquals(0x0807060504030201L, run(new Asm().mov64Reg(R0, R1).be(R0, 64).exit(), v));
        assertEquals(0x0708, run(new Asm().mov64Reg(R0, R1).le(R0, 16).exit(), v));
        assertEquals(0x05060708L, run(new Asm().mov64Reg(R0, R1).le(R0, 32).exit(), v));
        assertEquals(v, run(new Asm().mov64Reg(R0, R1).le(R0, 64).exit(), v));
        assertEquals(0x0807, run(new Asm().mov64Reg(R0, R1).bswap(R0, 16).exit(), v));
        assertEquals(0x08070605L, run(new Asm().mov64Reg(R0, R1).bswap(R0, 32).exit(), v));
        assertEquals(0x0807060504030201L, run(new Asm().mov64Reg(R0, R1).bswap(R0, 64).exit(), v));
    }

    @Test
    void ldImm64() throws VmFault {
        assertEquals(0x1122334455667788L, run(new Asm().lddw(R0, 0x1122334455667788L).exit()));
        assertEquals(-2, run(new Asm().lddw(R0, -2).exit()));
    }

    /** if (r1 OP r2) r0 = 1 else r0 = 0, 64 or 32 bit. */
    boolean jump(JmpOp op, boolean wide, long a, long b) throws VmFault {
        Asm asm = new Asm().mov64(R0, 0);
        if (wide) asm.jmp(op, R1, R2, "t"); else asm.jmp32(op, R1, R2, "t");
        return run(asm.exit().label("t").mov64(R0, 1).exit(), a, b) == 1;
    }

    boolean jumpK(JmpOp op, boolean wide, long a, int imm) throws VmFault {
        Asm asm = new Asm().mov64(R0, 0);
        if (wide) asm.jmpImm(op, R1, imm, "t"); else asm.jmp32Imm(op, R1, imm, "t");
        return run(asm.exit().label("t").mov64(R0, 1).exit(), a) == 1;
    }

    @Test
    void conditionalJumps() throws VmFault {
        assertTrue(jump(JmpOp.JEQ, true, 5, 5));
        assertFalse(jump(JmpOp.JEQ, true, 5, 6));
        assertTrue(jump(JmpOp.JNE, true, 5, 6));
        assertTrue(jump(JmpOp.JGT, true, -1, 1), "unsigned: 2^64-1 > 1");
        assertFalse(jump(JmpOp.JSGT, true, -1, 1), "signed: -1 < 1");
        assertTrue(jump(JmpOp.JGE, true, 3, 3));
        assertTrue(jump(JmpOp.JLT, true, 1, -1));
        assertTrue(jump(JmpOp.JLE, true, 3, 3));
        assertTrue(jump(JmpOp.JSLT, true, -1, 1));
        assertTrue(jump(JmpOp.JSLE, true, -2, -2));
        assertTrue(jump(JmpOp.JSGE, true, -2, -2));
        assertTrue(jump(JmpOp.JSET, true, 6, 2));
        assertFalse(jump(JmpOp.JSET, true, 4, 2));
        // JMP32 compares the low 32 bits only
        assertTrue(jump(JmpOp.JEQ, false, 0x1_0000_0005L, 5));
        assertFalse(jump(JmpOp.JEQ, true, 0x1_0000_0005L, 5));
        assertTrue(jump(JmpOp.JSLT, false, 0x8000_0000L, 0), "low word is negative as s32");
        assertFalse(jump(JmpOp.JSLT, true, 0x8000_0000L, 0));
        assertTrue(jump(JmpOp.JGT, false, 0xffff_ffffL, 1));
        // immediates: sign-extended for JMP, 32-bit for JMP32
        assertTrue(jumpK(JmpOp.JEQ, true, -1, -1));
        assertFalse(jumpK(JmpOp.JEQ, true, 0xffffffffL, -1));
        assertTrue(jumpK(JmpOp.JEQ, false, 0xffffffffL, -1));
        assertTrue(jumpK(JmpOp.JGT, true, 0x11, 0x10));
        assertTrue(jumpK(JmpOp.JSGE, false, 0x1_0000_0000L, 0));
    }

    @Test
    void gotoAndGotol() throws VmFault {
        assertEquals(2, run(new Asm().mov64(R0, 1).ja("x").mov64(R0, 9).label("x").add64(R0, 1).exit()));
        assertEquals(2, run(new Asm().mov64(R0, 1).gotol("x").mov64(R0, 9).label("x").add64(R0, 1).exit()));
        // a loop: r0 = sum 1..100
        assertEquals(5050, run(new Asm().mov64(R0, 0).mov64(R1, 100)
                .label("loop").alu64(AluOp.ADD, R0, R1).add64(R1, -1).jmpImm(JmpOp.JNE, R1, 0, "loop").exit()));
    }

    @Test
    void stackLoadsAndStoresAllSizes() throws VmFault {
        long v = 0x8899aabbccddeeffL;
        Asm a = new Asm().stx(Size.DW, R10, -8, R1);
        assertEquals(v, run(new Asm().stx(Size.DW, R10, -8, R1).ldx(Size.DW, R0, R10, -8).exit(), v));
        assertEquals(0xccddeeffL, run(new Asm().stx(Size.DW, R10, -8, R1).ldx(Size.W, R0, R10, -8).exit(), v));
        assertEquals(0xeeffL, run(new Asm().stx(Size.DW, R10, -8, R1).ldx(Size.H, R0, R10, -8).exit(), v));
        assertEquals(0x88L, run(new Asm().stx(Size.DW, R10, -8, R1).ldx(Size.B, R0, R10, -1).exit(), v));
        assertEquals((long) (int) 0xccddeeffL, run(new Asm().stx(Size.DW, R10, -8, R1).ldxs(Size.W, R0, R10, -8).exit(), v));
        assertEquals((long) (short) 0xeeff, run(new Asm().stx(Size.DW, R10, -8, R1).ldxs(Size.H, R0, R10, -8).exit(), v));
        assertEquals((long) (byte) 0x88, run(new Asm().stx(Size.DW, R10, -8, R1).ldxs(Size.B, R0, R10, -1).exit(), v));
        assertEquals(0x7fL, run(new Asm().st(Size.B, R10, -1, 0x17f).ldxs(Size.B, R0, R10, -1).exit()));
        assertEquals(-2, run(new Asm().st(Size.DW, R10, -16, -2).ldx(Size.DW, R0, R10, -16).exit()), "ST DW sign-extends imm");
        assertEquals(0xfffeL, run(new Asm().st(Size.H, R10, -2, -2).ldx(Size.H, R0, R10, -2).exit()));
        assertEquals(0xfffffffeL, run(new Asm().st(Size.W, R10, -4, -2).ldx(Size.W, R0, R10, -4).exit()));
        assertEquals(0xbbccddeeffL & 0xffff, run(new Asm().stx(Size.H, R10, -2, R1).ldx(Size.H, R0, R10, -2).exit(), v));
        assertEquals(0xffL, run(new Asm().stx(Size.B, R10, -3, R1).ldx(Size.B, R0, R10, -3).exit(), v));
        assertEquals(0xccddeeffL, run(new Asm().stx(Size.W, R10, -4, R1).ldx(Size.W, R0, R10, -4).exit(), v));
        assertNotNull(a);
    }

    @Test
    void contextMemoryLittleEndian() throws VmFault {
        byte[] mem = {1, 2, 3, 4, 5, 6, 7, 8};
        VmProgram p = VmProgram.builder("ctx", new Asm().ldx(Size.W, R0, R1, 4).st(Size.B, R1, 0, 0x55).exit().bytes()).prepare();
        long r0 = VM.runWithContext(p, new VmContext(), MemorySegment.ofArray(mem), true);
        assertEquals(0x08070605L, r0);
        assertEquals(0x55, mem[0]);
    }

    @Test
    void readOnlyContextRejectsStores() throws VmFault {
        VmProgram p = VmProgram.builder("ro", new Asm().st(Size.B, R1, 0, 1).ret(0).bytes()).prepare();
        VmFault f = assertThrows(VmFault.class, () -> VM.runWithContext(p, new VmContext(), MemorySegment.ofArray(new byte[8]), false));
        assertTrue(f.getMessage().contains("read-only"), f.getMessage());
        assertEquals(0, f.insnIndex());
    }

    @Test
    void outOfBoundsAccessesFault() throws VmFault {
        VmFault below = assertThrows(VmFault.class, () -> run(new Asm().ldx(Size.DW, R0, R10, -520).exit()));
        assertEquals(VmFault.Kind.MEMORY, below.kind());
        assertEquals("t", below.program());
        assertEquals(0, below.insnIndex());
        assertTrue(below.hasAddress());
        assertEquals(VmContext.stackPointer(0) - 520, below.address());
        VmFault above = assertThrows(VmFault.class, () -> run(new Asm().mov64(R0, 0).stx(Size.W, R10, -2, R0).exit()));
        assertEquals(1, above.insnIndex());
        assertTrue(above.getMessage().contains("offset 510"), above.getMessage());
        VmFault nul = assertThrows(VmFault.class, () -> run(new Asm().mov64(R1, 0).ldx(Size.B, R0, R1, 0).exit()));
        assertTrue(nul.getMessage().contains("NULL"), nul.getMessage());
        assertThrows(VmFault.class, () -> run(new Asm().lddw(R1, -1L).ldx(Size.B, R0, R1, 0).exit()));
        byte[] mem = new byte[4];
        VmProgram p = VmProgram.builder("ctx", new Asm().ldx(Size.W, R0, R1, 1).exit().bytes()).prepare();
        assertThrows(VmFault.class, () -> VM.runWithContext(p, new VmContext(), MemorySegment.ofArray(mem), true));
    }

    @Test
    void atomicsOnStack() throws VmFault {
        // *(u64*)(r10-8) = 10; lock += 5; r1 = fetch_add(3) -> 15; then or, and, xor, xchg, cmpxchg
        Asm a = new Asm().st(Size.DW, R10, -8, 10).mov64(R1, 5)
                .atomic(Size.DW, AtomicOp.ADD, R10, -8, R1)
                .mov64(R2, 3).atomic(Size.DW, AtomicOp.FETCH_ADD, R10, -8, R2)   // r2 = 15, mem 18
                .mov64(R3, 0x100).atomic(Size.DW, AtomicOp.FETCH_OR, R10, -8, R3) // r3 = 18, mem 0x112
                .mov64(R4, 0xff).atomic(Size.DW, AtomicOp.FETCH_AND, R10, -8, R4) // r4 = 0x112, mem 0x12
                .mov64(R5, 0x3).atomic(Size.DW, AtomicOp.FETCH_XOR, R10, -8, R5)  // r5 = 0x12, mem 0x11
                .mov64(R6, 77).atomic(Size.DW, AtomicOp.XCHG, R10, -8, R6)        // r6 = 0x11, mem 77
                .mov64(R0, 77).mov64(R7, 99).atomic(Size.DW, AtomicOp.CMPXCHG, R10, -8, R7) // r0 = 77, mem 99
                .mov64(R0, 1).mov64(R8, 5).atomic(Size.DW, AtomicOp.CMPXCHG, R10, -8, R8)   // r0 = 99, no store
                .ldx(Size.DW, R9, R10, -8)
                // pack: r0 = r2 + r3<<8 + r4<<16 + r5<<32 + r6<<40 + r9<<48 + r0<<56
                .mov64Reg(R1, R0)
                .mov64Reg(R0, R2)
                .alu64Imm(AluOp.LSH, R3, 8).alu64(AluOp.ADD, R0, R3)
                .alu64Imm(AluOp.LSH, R4, 16).alu64(AluOp.ADD, R0, R4)
                .alu64Imm(AluOp.LSH, R5, 32).alu64(AluOp.ADD, R0, R5)
                .alu64Imm(AluOp.LSH, R6, 40).alu64(AluOp.ADD, R0, R6)
                .alu64Imm(AluOp.LSH, R9, 48).alu64(AluOp.ADD, R0, R9)
                .alu64Imm(AluOp.LSH, R1, 56).alu64(AluOp.ADD, R0, R1)
                .exit();
        long r = run(a);
        assertEquals(15, r & 0xff);
        assertEquals(18, (r >>> 8) & 0xff);
        assertEquals(0x112 + 18 * 0, ((r >>> 16) & 0xffff) , "fetch_and returned 0x112");
        assertEquals(0x12, (r >>> 32) & 0xff);
        assertEquals(0x11, (r >>> 40) & 0xff);
        assertEquals(99, (r >>> 48) & 0xff);
        assertEquals(99, (r >>> 56) & 0xff);
    }

    @Test
    void atomics32ZeroExtendAndTouchOnlyFourBytes() throws VmFault {
        Asm a = new Asm().lddw(R1, -1L).stx(Size.DW, R10, -8, R1)
                .mov64(R2, 1).atomic(Size.W, AtomicOp.FETCH_ADD, R10, -8, R2)  // low word wraps to 0, r2 = 0xffffffff
                .ldx(Size.DW, R0, R10, -8)                                      // 0xffffffff00000000
                .alu64(AluOp.XOR, R0, R2).exit();                               // ^ 0xffffffff
        assertEquals(-1L, run(a));
        Asm c = new Asm().st(Size.W, R10, -4, 7).lddw(R0, 0x1_0000_0007L).mov64(R1, 9)
                .atomic(Size.W, AtomicOp.CMPXCHG, R10, -4, R1).ldx(Size.W, R2, R10, -4)
                .alu64Imm(AluOp.LSH, R2, 32).alu64(AluOp.OR, R0, R2).exit();
        assertEquals(0x9_0000_0007L, run(c), "cmpxchg compares the low 32 bits of r0 and returns old zero-extended");
    }

    @Test
    void misalignedAtomicFaults() {
        VmFault f = assertThrows(VmFault.class, () -> run(new Asm().mov64(R1, 1).atomic(Size.DW, AtomicOp.ADD, R10, -12, R1).ret(0)));
        assertTrue(f.getMessage().contains("misaligned"), f.getMessage());
    }

    @Test
    void loadAcquireStoreRelease() throws VmFault {
        assertEquals(42, run(new Asm().mov64(R1, 42).atomic(Size.DW, AtomicOp.STORE_RELEASE, R10, -8, R1)
                .atomic(Size.DW, AtomicOp.LOAD_ACQUIRE, R0, -8, R10).exit()));
    }

    @Test
    void bpfToBpfCallsPreserveCalleeSavedAndHaveOwnStacks() throws VmFault {
        Asm a = new Asm().mov64(R6, 100).st(Size.DW, R10, -8, 7).mov64(R1, 5)
                .callLocal("f")
                .alu64(AluOp.ADD, R0, R6)            // r6 preserved: +100
                .ldx(Size.DW, R1, R10, -8)           // caller's stack untouched: +7
                .alu64(AluOp.ADD, R0, R1).exit()
                .label("f")
                .mov64(R6, 1).st(Size.DW, R10, -8, 99) // clobber own r6 and own stack slot
                .mov64Reg(R0, R1).alu64Imm(AluOp.MUL, R0, 2).exit();
        assertEquals(10 + 100 + 7, run(a));
    }

    @Test
    void callDepthIsLimitedToEightFrames() throws VmFault {
        // recursion: f(n) = n == 0 ? 0 : 1 + f(n-1)
        Asm a = new Asm().callLocal("f").exit()
                .label("f").jmpImm(JmpOp.JNE, R1, 0, "rec").mov64(R0, 0).exit()
                .label("rec").mov64Reg(R6, R1).add64(R1, -1).callLocal("f").add64(R0, 1).exit();
        assertEquals(6, run(a, 6), "main + 7 nested frames fit");
        VmFault f = assertThrows(VmFault.class, () -> run(a, 7));
        assertEquals(VmFault.Kind.CALL_DEPTH, f.kind());
    }

    @Test
    void budgetExhaustion() throws VmFault {
        VmProgram p = VmProgram.builder("spin", new Asm().label("l").ja("l").bytes()).prepare();
        VmContext ctx = new VmContext();
        ctx.setBudget(10_000);
        VmFault f = assertThrows(VmFault.class, () -> VM.run(p, ctx, 0, 0, 0, 0, 0));
        assertEquals(VmFault.Kind.BUDGET, f.kind());
        assertTrue(f.getMessage().contains("spin"));
        // exactly at the budget: 3 instructions run with a budget of 3
        VmProgram three = VmProgram.builder("three", new Asm().mov64(R0, 1).add64(R0, 1).exit().bytes()).prepare();
        ctx.setBudget(3);
        assertEquals(2, VM.run(three, ctx, 0, 0, 0, 0, 0));
        assertEquals(3, ctx.lastRunInstructions());
        ctx.setBudget(2);
        assertThrows(VmFault.class, () -> VM.run(three, ctx, 0, 0, 0, 0, 0));
    }

    @Test
    void fallingOffTheEndFaults() {
        VmFault f = assertThrows(VmFault.class, () -> run(new Asm().mov64(R0, 1)));
        assertEquals(1, f.insnIndex());
    }

    @Test
    void preparationRejectsBadPrograms() {
        assertPrepareFails(new Asm().mov64(R10, 0).exit(), "r10");
        assertPrepareFails(new Asm().raw(0x05, 0, 0, 5, 0).exit(), "outside");
        assertPrepareFails(new Asm().raw(0x05, 0, 0, 1, 0).lddw(R0, 1).exit(), "inside a 64-bit");
        assertPrepareFails(new Asm().call(9999).exit(), "unknown helper 9999");
        assertPrepareFails(new Asm().callKfunc(0).exit(), "kfunc call #0");
        assertPrepareFails(new Asm().raw(0xff, 0, 0, 0, 0), "invalid instruction");
        assertPrepareFails(new Asm().ldMap(R1, 0).exit(), "map index 0");
        assertPrepareFails(new Asm().raw(0x18, 0, 0, 0, 0), "second slot");
        assertPrepareFails(new Asm().raw(0x20, 0, 0, 0, 0).exit(), "legacy");
        assertPrepareFails(new Asm().raw(Opcodes.ALU64 | Opcodes.DIV | Opcodes.X, 0, 1, 2, 0).exit(), "offset");
    }

    static void assertPrepareFails(Asm a, String text) {
        VmFault f = assertThrows(VmFault.class, () -> VmProgram.builder("bad", a.slots()).prepare());
        assertEquals(VmFault.Kind.PREPARE, f.kind());
        assertTrue(f.getMessage().contains(text), f.getMessage() + " should mention " + text);
    }

    @Test
    void unknownKfuncFailsAtPreparationNamingIt() {
        VmFault f = assertThrows(VmFault.class, () -> VmProgram.builder("k", new Asm().callKfunc(0).exit().bytes())
                .kfuncs(List.of("bpf_aio_alloc")).prepare());
        assertTrue(f.getMessage().contains("unknown kfunc bpf_aio_alloc"), f.getMessage());
    }

    @Test
    void kfuncsGetArgumentsMemoryAndProgram() throws VmFault {
        FunctionRegistry reg = FunctionRegistry.standard();
        AtomicLong seen = new AtomicLong();
        byte[] object = new byte[16];
        reg.register("test_sum", (ctx, a, b, c, d, e) -> a + b + c + d + e);
        reg.register("test_store", (ctx, ptr, v, c, d, e) -> {
            ctx.store(ptr, 8, v);
            seen.set(ctx.load(ptr, 8));
            return ctx.program().name().length();
        });
        reg.register("test_object", (ctx, a, b, c, d, e) -> ctx.addRegion(object, true, "test object"));
        Asm a = new Asm().mov64(R1, 1).mov64(R2, 2).mov64(R3, 3).mov64(R4, 4).mov64(R5, 5).callKfunc(0)
                .mov64Reg(R6, R0)
                .mov64Reg(R1, R10).add64(R1, -8).mov64(R2, 1234).callKfunc(1)
                .alu64(AluOp.ADD, R6, R0)
                .callKfunc(2).st(Size.W, R0, 12, 0x0badf00d)
                .mov64Reg(R0, R6).exit();
        VmProgram p = VmProgram.builder("kfprog", a.bytes()).registry(reg).kfuncs(List.of("test_sum", "test_store", "test_object")).prepare();
        assertEquals(15 + 6, VM.run(p, new VmContext(), 0, 0, 0, 0, 0));
        assertEquals(1234, seen.get());
        assertEquals(0x0badf00d, ByteBuffer.wrap(object).order(ByteOrder.LITTLE_ENDIAN).getInt(12));
    }

    @Test
    void kfuncFaultsAndExceptionsBecomeVmFaults() throws VmFault {
        FunctionRegistry reg = FunctionRegistry.standard();
        reg.register("refuse", (ctx, a, b, c, d, e) -> { throw VmFault.helper("bad io pointer"); });
        reg.register("boom", (ctx, a, b, c, d, e) -> { throw new IllegalStateException("kaput"); });
        VmProgram p = VmProgram.builder("kf", new Asm().mov64(R0, 0).callKfunc(0).callKfunc(1).exit().bytes())
                .registry(reg).kfuncs(List.of("refuse", "boom")).sourceLines(i -> "line " + i).prepare();
        VmFault f = assertThrows(VmFault.class, () -> VM.run(p, new VmContext(), 0, 0, 0, 0, 0));
        assertEquals(1, f.insnIndex());
        assertEquals("line 1", f.sourceLine());
        assertTrue(f.getMessage().contains("bad io pointer") && f.getMessage().contains("[line 1]"), f.getMessage());
        VmProgram q = VmProgram.builder("kf2", new Asm().callKfunc(1).exit().bytes())
                .registry(reg).kfuncs(List.of("refuse", "boom")).prepare();
        VmFault g = assertThrows(VmFault.class, () -> VM.run(q, new VmContext(), 0, 0, 0, 0, 0));
        assertEquals(VmFault.Kind.HELPER, g.kind());
        assertTrue(g.getMessage().contains("boom failed") && g.getMessage().contains("kaput"), g.getMessage());
    }

    @Test
    void structOpsArgumentsArray() throws VmFault {
        // queue_io_cmd(io, off): r0 = args[0] + args[1]; args are read-only
        VmProgram p = VmProgram.builder("ops", new Asm().ldx(Size.DW, R2, R1, 0).ldx(Size.DW, R3, R1, 8)
                .mov64Reg(R0, R2).alu64(AluOp.ADD, R0, R3).exit().bytes()).prepare();
        assertEquals(4096 + 512, VM.runStructOps(p, new VmContext(), 4096, 512));
        VmProgram past = VmProgram.builder("ops", new Asm().ldx(Size.DW, R0, R1, 16).exit().bytes()).prepare();
        assertThrows(VmFault.class, () -> VM.runStructOps(past, new VmContext(), 1, 2));
        VmProgram write = VmProgram.builder("ops", new Asm().st(Size.DW, R1, 0, 1).ret(0).bytes()).prepare();
        assertThrows(VmFault.class, () -> VM.runStructOps(write, new VmContext(), 1, 2));
    }

    @Test
    void structOpsPointerArgumentToEngineObject() throws VmFault {
        // the engine maps an io object and passes its address as args[0]
        MemorySegment io = MemorySegment.ofArray(new long[4]);
        io.set(ValueLayout.JAVA_INT, 8, 4096);
        VmContext ctx = new VmContext();
        long ioAddr = ctx.addRegion(io, true, "ublk_bpf_io");
        VmProgram p = VmProgram.builder("q", new Asm().ldx(Size.DW, R2, R1, 0).ldx(Size.W, R0, R2, 8)
                .st(Size.W, R2, 0, 1).exit().bytes()).prepare();
        assertEquals(4096, VM.runStructOps(p, ctx, ioAddr, 0));
        assertEquals(1, io.get(ValueLayout.JAVA_INT, 0));
        ctx.clearRegions();
        assertThrows(VmFault.class, () -> VM.runStructOps(p, ctx, ioAddr, 0), "region gone after clearRegions");
    }

    static VmMap counterMap(MapType t, int cpus) {
        return VmMap.create(MapDef.of("counters", t, 4, 8, 4), cpus);
    }

    /** key = r1 (stack), v = lookup(map0, &key); if !v return -1; *v += r2 atomically; return *v. */
    static Asm lookupAndAdd() {
        return new Asm().stx(Size.W, R10, -4, R1).mov64Reg(R6, R2)
                .ldMap(R1, 0).mov64Reg(R2, R10).add64(R2, -4).call(StandardHelpers.MAP_LOOKUP_ELEM)
                .jmpImm(JmpOp.JNE, R0, 0, "found").mov64(R0, -1).exit()
                .label("found").atomic(Size.DW, AtomicOp.ADD, R0, 0, R6).ldx(Size.DW, R0, R0, 0).exit();
    }

    @Test
    void mapLookupReturnsPointerAliasingTheValue() throws VmFault, Exception {
        VmMap m = counterMap(MapType.ARRAY, 1);
        VmProgram p = VmProgram.builder("cnt", lookupAndAdd().bytes()).map(m).prepare();
        VmContext ctx = new VmContext();
        assertEquals(5, VM.run(p, ctx, 2, 5, 0, 0, 0));
        assertEquals(12, VM.run(p, ctx, 2, 7, 0, 0, 0));
        assertEquals(-1, VM.run(p, ctx, 4, 7, 0, 0, 0), "index past max_entries: NULL");
        assertEquals(12, ByteBuffer.wrap(m.lookup(le32(2))).order(ByteOrder.LITTLE_ENDIAN).getLong());
    }

    @Test
    void hashMapFromProgramUpdateLookupDelete() throws VmFault {
        VmMap m = VmMap.create(MapDef.of("h", MapType.HASH, 4, 8, 2), 1);
        // key=r1; value=r2; r0 = update(map,&key,&val,flags=r3)
        Asm upd = new Asm().stx(Size.W, R10, -4, R1).stx(Size.DW, R10, -16, R2).mov64Reg(R4, R3)
                .ldMap(R1, 0).mov64Reg(R2, R10).add64(R2, -4).mov64Reg(R3, R10).add64(R3, -16)
                .call(StandardHelpers.MAP_UPDATE_ELEM).exit();
        Asm del = new Asm().stx(Size.W, R10, -4, R1).ldMap(R1, 0).mov64Reg(R2, R10).add64(R2, -4)
                .call(StandardHelpers.MAP_DELETE_ELEM).exit();
        VmProgram pu = VmProgram.builder("upd", upd.bytes()).map(m).prepare();
        VmProgram pd = VmProgram.builder("del", del.bytes()).map(m).prepare();
        VmProgram pl = VmProgram.builder("look", lookupAndAdd().bytes()).map(m).prepare();
        VmContext ctx = new VmContext();
        assertEquals(-1, VM.run(pl, ctx, 7, 0, 0, 0, 0));
        assertEquals(0, VM.run(pu, ctx, 7, 70, VmMap.BPF_NOEXIST, 0, 0));
        assertEquals(-17, VM.run(pu, ctx, 7, 70, VmMap.BPF_NOEXIST, 0, 0), "EEXIST");
        assertEquals(-2, VM.run(pu, ctx, 8, 80, VmMap.BPF_EXIST, 0, 0), "ENOENT");
        assertEquals(0, VM.run(pu, ctx, 8, 80, VmMap.BPF_ANY, 0, 0));
        assertEquals(-7, VM.run(pu, ctx, 9, 90, VmMap.BPF_ANY, 0, 0), "E2BIG when full");
        assertEquals(-22, VM.run(pu, ctx, 9, 90, 4, 0, 0), "EINVAL for bad flags");
        assertEquals(71, VM.run(pl, ctx, 7, 1, 0, 0, 0));
        assertEquals(0, VM.run(pd, ctx, 7, 0, 0, 0, 0));
        assertEquals(-2, VM.run(pd, ctx, 7, 0, 0, 0, 0));
        assertEquals(-1, VM.run(pl, ctx, 7, 1, 0, 0, 0));
        assertEquals(1, m.count());
    }

    @Test
    void perCpuMapsUseTheContextsCpu() throws VmFault {
        VmMap m = counterMap(MapType.PERCPU_ARRAY, 4);
        VmProgram p = VmProgram.builder("pc", lookupAndAdd().bytes()).map(m).prepare();
        for (int cpu = 0; cpu < 4; cpu++) VM.run(p, new VmContext(cpu), 1, cpu + 1, 0, 0, 0);
        byte[] all = m.lookup(le32(1));
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        for (int cpu = 0; cpu < 4; cpu++) assertEquals(cpu + 1, b.getLong(cpu * 8));
        VmFault f = assertThrows(VmFault.class, () -> VM.run(p, new VmContext(4), 1, 1, 0, 0, 0));
        assertTrue(f.getMessage().contains("cpu 4 is outside per-cpu map counters"), f.getMessage());
    }

    @Test
    void concurrentAtomicIncrementsOnASharedMapValue() throws Exception {
        VmMap m = counterMap(MapType.HASH, 1);
        m.update(le32(3), new byte[8], VmMap.BPF_ANY);
        VmProgram p = VmProgram.builder("inc", lookupAndAdd().bytes()).map(m).prepare();
        int threads = 4, iters = 5000;
        Thread[] ts = new Thread[threads];
        Exception[] err = new Exception[1];
        for (int t = 0; t < threads; t++) {
            ts[t] = new Thread(() -> {
                VmContext ctx = new VmContext();
                try {
                    for (int i = 0; i < iters; i++) VM.run(p, ctx, 3, 1, 0, 0, 0);
                } catch (VmFault f) { err[0] = f; }
            });
            ts[t].start();
        }
        for (Thread t : ts) t.join();
        assertNull(err[0]);
        assertEquals((long) threads * iters, ByteBuffer.wrap(m.lookup(le32(3))).order(ByteOrder.LITTLE_ENDIAN).getLong());
    }

    @Test
    void globalDataThroughDirectValueAccess() throws VmFault, Exception {
        VmMap data = VmMap.create(MapDef.of(".data", MapType.ARRAY, 4, 16, 1), 1);
        // r1 = &data + 8; *(u64*)r1 += 3; r0 = *(u64*)(r1)
        Asm a = new Asm().ldMapValue(R1, 0, 8).mov64(R2, 3).atomic(Size.DW, AtomicOp.ADD, R1, 0, R2)
                .ldx(Size.DW, R0, R1, 0).exit();
        VmProgram p = VmProgram.builder("g", a.bytes()).map(data).prepare();
        VmContext ctx = new VmContext();
        VM.run(p, ctx, 0, 0, 0, 0, 0);
        assertEquals(6, VM.run(p, ctx, 0, 0, 0, 0, 0));
        assertEquals(6, ByteBuffer.wrap(data.lookup(le32(0))).order(ByteOrder.LITTLE_ENDIAN).getLong(8));
        VmProgram over = VmProgram.builder("g2", new Asm().ldMapValue(R1, 0, 8).ldx(Size.DW, R0, R1, 8).exit().bytes()).map(data).prepare();
        assertThrows(VmFault.class, () -> VM.run(over, ctx, 0, 0, 0, 0, 0));
    }

    @Test
    void mapPointerIsNotMemory() throws VmFault {
        VmMap m = counterMap(MapType.ARRAY, 1);
        VmProgram p = VmProgram.builder("mp", new Asm().ldMap(R1, 0).ldx(Size.DW, R0, R1, 0).exit().bytes()).map(m).prepare();
        VmFault f = assertThrows(VmFault.class, () -> VM.run(p, new VmContext(), 0, 0, 0, 0, 0));
        assertTrue(f.getMessage().contains("map pointer"), f.getMessage());
        VmProgram q = VmProgram.builder("mp", new Asm().mov64(R1, 8).mov64Reg(R2, R10).call(1).exit().bytes()).map(m).prepare();
        VmFault g = assertThrows(VmFault.class, () -> VM.run(q, new VmContext(), 0, 0, 0, 0, 0));
        assertTrue(g.getMessage().contains("not a map pointer"), g.getMessage());
    }

    @Test
    void printkGoesToTheTraceLog() throws VmFault {
        FunctionRegistry reg = FunctionRegistry.standard();
        String fmt = "io %d tag %u off %lx\0";
        Asm a = new Asm();
        byte[] fb = fmt.getBytes();
        byte[] padded = java.util.Arrays.copyOf(fb, (fb.length + 7) & ~7);
        ByteBuffer bb = ByteBuffer.wrap(padded).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < padded.length; i += 8) a.lddw(R1, bb.getLong(i)).stx(Size.DW, R10, -padded.length + i, R1);
        a.mov64Reg(R1, R10).add64(R1, -padded.length).mov64(R2, fb.length).mov64(R3, -5).mov64(R4, 7).lddw(R5, 0xabcdefL)
                .call(StandardHelpers.TRACE_PRINTK).exit();
        VmProgram p = VmProgram.builder("printer", a.bytes()).registry(reg).prepare();
        long n = VM.run(p, new VmContext(), 0, 0, 0, 0, 0);
        assertEquals(List.of("printer: io -5 tag 7 off abcdef"), reg.traceLog().lines());
        assertEquals("io -5 tag 7 off abcdef".length(), n);
    }

    @Test
    void smallHelpers() throws VmFault {
        assertEquals(3, VM.run(VmProgram.builder("cpu", new Asm().call(8).exit().bytes()).prepare(), new VmContext(3), 0, 0, 0, 0, 0));
        long t0 = System.nanoTime();
        long t = VM.run(VmProgram.builder("t", new Asm().call(5).exit().bytes()).prepare(), new VmContext(), 0, 0, 0, 0, 0);
        assertTrue(t >= t0);
        long boot = VM.run(VmProgram.builder("b", new Asm().call(125).exit().bytes()).prepare(), new VmContext(), 0, 0, 0, 0, 0);
        assertTrue(boot > 0);
        long rnd = VM.run(VmProgram.builder("r", new Asm().call(7).exit().bytes()).prepare(), new VmContext(), 0, 0, 0, 0, 0);
        assertEquals(0, rnd >>> 32, "u32");
        // probe_read_kernel: from a bad address zeroes dst and returns -EFAULT
        Asm pr = new Asm().st(Size.DW, R10, -8, -1).mov64Reg(R1, R10).add64(R1, -8).mov64(R2, 8).mov64(R3, 16)
                .call(113).ldx(Size.DW, R1, R10, -8).alu64(AluOp.ADD, R0, R1).exit();
        assertEquals(-14, VM.run(VmProgram.builder("p", pr.bytes()).prepare(), new VmContext(), 0, 0, 0, 0, 0));
    }

    @Test
    void manyLookupsInOneRunReuseRegions() throws VmFault {
        VmMap m = counterMap(MapType.ARRAY, 1);
        // loop 100000 times: lookup key 1, add 1
        Asm a = new Asm().mov64(R7, 100_000).st(Size.W, R10, -4, 1)
                .label("l").ldMap(R1, 0).mov64Reg(R2, R10).add64(R2, -4).call(1)
                .jmpImm(JmpOp.JEQ, R0, 0, "out").mov64(R1, 1).atomic(Size.DW, AtomicOp.ADD, R0, 0, R1)
                .add64(R7, -1).jmpImm(JmpOp.JNE, R7, 0, "l").label("out").mov64(R0, 0).exit();
        VmContext ctx = new VmContext();
        VmProgram p = VmProgram.builder("loop", a.bytes()).map(m).prepare();
        int before = ctx.mark();
        VM.run(p, ctx, 0, 0, 0, 0, 0);
        assertEquals(before, ctx.mark(), "regions created in a run are dropped at its end");
        assertEquals(100_000, ByteBuffer.wrap(m.lookup(le32(1))).order(ByteOrder.LITTLE_ENDIAN).getLong());
    }

    static byte[] le32(int v) { return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array(); }
}
