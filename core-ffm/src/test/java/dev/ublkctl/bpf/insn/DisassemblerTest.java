package dev.ublkctl.bpf.insn;

import static dev.ublkctl.bpf.insn.Asm.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.ublkctl.bpf.insn.Instruction.*;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

class DisassemblerTest {
    static final Disassembler D = new Disassembler(SourceLines.NONE, List.of("ublk_bpf_complete_io"), List.of("counters"));

    static String one(Asm a) {
        long[] s = a.slots();
        return D.format(Decoder.decode(s, 0));
    }

    @Test
    void formatsLikeBpftool() {
        assertEquals("(b7) r0 = 0", one(new Asm().mov64(R0, 0)));
        assertEquals("(b4) w0 = -1", one(new Asm().mov32(R0, -1)));
        assertEquals("(bf) r1 = r10", one(new Asm().mov64Reg(R1, R10)));
        assertEquals("(07) r1 += -8", one(new Asm().add64(R1, -8)));
        assertEquals("(0c) w1 += w2", one(new Asm().alu32(AluOp.ADD, R1, R2)));
        assertEquals("(3f) r1 s/= r2", one(new Asm().alu64(AluOp.SDIV, R1, R2)));
        assertEquals("(97) r1 s%= 3", one(new Asm().alu64Imm(AluOp.SMOD, R1, 3)));
        assertEquals("(c7) r1 s>>= 63", one(new Asm().alu64Imm(AluOp.ARSH, R1, 63)));
        assertEquals("(87) r3 = -r3", one(new Asm().neg64(R3)));
        assertEquals("(bf) r1 = (s8)r2", one(new Asm().movsx64(R1, R2, 8)));
        assertEquals("(bc) w1 = (s16)w2", one(new Asm().movsx32(R1, R2, 16)));
        assertEquals("(dc) r1 = be16 r1", one(new Asm().be(R1, 16)));
        assertEquals("(d4) r1 = le64 r1", one(new Asm().le(R1, 64)));
        assertEquals("(d7) r1 = bswap32 r1", one(new Asm().bswap(R1, 32)));
        assertEquals("(61) r1 = *(u32 *)(r1 +4)", one(new Asm().ldx(Size.W, R1, R1, 4)));
        assertEquals("(91) r1 = *(s8 *)(r2 -1)", one(new Asm().ldxs(Size.B, R1, R2, -1)));
        assertEquals("(7b) *(u64 *)(r10 -8) = r1", one(new Asm().stx(Size.DW, R10, -8, R1)));
        assertEquals("(62) *(u32 *)(r10 -4) = 7", one(new Asm().st(Size.W, R10, -4, 7)));
        assertEquals("(db) lock *(u64 *)(r10 -8) += r1", one(new Asm().atomic(Size.DW, AtomicOp.ADD, R10, -8, R1)));
        assertEquals("(c3) lock *(u32 *)(r2 +0) |= r3", one(new Asm().atomic(Size.W, AtomicOp.OR, R2, 0, R3)));
        assertEquals("(db) r1 = atomic64_fetch_add((u64 *)(r10 -8), r1)", one(new Asm().atomic(Size.DW, AtomicOp.FETCH_ADD, R10, -8, R1)));
        assertEquals("(c3) r1 = atomic_xchg((u32 *)(r10 -8), r1)", one(new Asm().atomic(Size.W, AtomicOp.XCHG, R10, -8, R1)));
        assertEquals("(db) r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r2)", one(new Asm().atomic(Size.DW, AtomicOp.CMPXCHG, R10, -8, R2)));
        assertEquals("(db) r0 = load_acquire((u64 *)(r1 +8))", one(new Asm().atomic(Size.DW, AtomicOp.LOAD_ACQUIRE, R0, 8, R1)));
        assertEquals("(d3) store_release((u8 *)(r1 +0), r2)", one(new Asm().atomic(Size.B, AtomicOp.STORE_RELEASE, R1, 0, R2)));
        assertEquals("(85) call bpf_map_lookup_elem#1", one(new Asm().call(1)));
        assertEquals("(85) call bpf_trace_printk#6", one(new Asm().call(6)));
        assertEquals("(85) call ublk_bpf_complete_io#0", one(new Asm().callKfunc(0)));
        assertEquals("(95) exit", one(new Asm().exit()));
        assertEquals("(18) r1 = 0x1122334455667788", one(new Asm().lddw(R1, 0x1122334455667788L)));
        assertEquals("(18) r1 = map[counters]", one(new Asm().ldMap(R1, 0)));
        assertEquals("(18) r2 = map[idx:3][0]+16", one(new Asm().ldMapValue(R2, 3, 16)));
    }

    @Test
    void jumpsShowRelativeTargets() {
        long[] s = new Asm().jmpImm(JmpOp.JGT, R1, 0x10, "x").mov64(R0, 0).mov64(R0, 0).mov64(R0, 0).label("x").exit().slots();
        assertEquals("(25) if r1 > 0x10 goto pc+3", D.format(Decoder.decode(s, 0)));
        long[] b = new Asm().label("top").jmp32(JmpOp.JSLT, R2, R3, "top").ja("top").gotol("top").callLocal("top").slots();
        assertEquals("(ce) if w2 s< w3 goto pc-1", D.format(Decoder.decode(b, 0)));
        assertEquals("(05) goto pc-2", D.format(Decoder.decode(b, 1)));
        assertEquals("(06) gotol pc-3", D.format(Decoder.decode(b, 2)));
        assertEquals("(85) call pc-4", D.format(Decoder.decode(b, 3)));
        assertEquals("(a6) if w1 < 0xffffffff goto pc+0", D.format(Decoder.decode(new Asm().raw(0xa6, 1, 0, 0, -1).slots(), 0)));
    }

    @Test
    void dumpNumbersSlotsAndInterleavesSourceLines() {
        long[] s = new Asm().lddw(R1, 5).mov64(R0, 0).exit().slots();
        SourceLines lines = i -> i == 0 ? "int x = 5;" : i == 2 ? "return 0;" : null;
        String out = new Disassembler().withSourceLines(lines).dump(s);
        assertEquals("""
                ; int x = 5;
                   0: (18) r1 = 0x5
                ; return 0;
                   2: (b7) r0 = 0
                   3: (95) exit
                """, out);
    }

    @Test
    void invalidSlotsAreShownNotThrown() {
        assertEquals("(ff) invalid: invalid ALU opcode 0xff with offset 0", D.format(Decoder.decode(new long[]{0xff}, 0)));
        assertEquals("(e3) invalid: invalid STX mode", D.format(Decoder.decode(new long[]{0xe3}, 0)));
        assertTrue(D.format(Decoder.decode(new long[]{0x18}, 0)).contains("second slot"));
        assertTrue(D.format(Decoder.decode(new long[]{Opcodes.encode(0xb7, 11, 0, 0, 0)}, 0)).contains("r11"));
    }

    @Test
    void decoderRoundTripsEveryAssemblerForm() {
        Asm a = new Asm().mov64(R1, 2).alu64(AluOp.MUL, R1, R2).lddw(R3, -7).ldMapValue(R4, 1, 8)
                .ldx(Size.H, R5, R1, 2).ldxs(Size.W, R5, R1, 2).st(Size.B, R10, -1, 3).stx(Size.DW, R10, -8, R5)
                .atomic(Size.W, AtomicOp.FETCH_XOR, R10, -8, R5).call(5).callKfunc(0).exit();
        List<Instruction> insns = Decoder.decode(a.bytes());
        assertEquals(12, insns.size());
        assertEquals(new Alu(0xb7, true, AluOp.MOV, false, 1, 0, 0, 2), insns.get(0));
        assertEquals(new LoadImm64(3, ImmKind.VALUE, -7), insns.get(2));
        LoadImm64 mv = (LoadImm64) insns.get(3);
        assertEquals(ImmKind.MAP_VALUE, mv.kind());
        assertEquals(1, mv.mapIndex());
        assertEquals(8, mv.valueOffset());
        assertEquals(new Load(0x69, Size.H, false, 5, 1, 2), insns.get(4));
        assertEquals(new Load(0x81, Size.W, true, 5, 1, 2), insns.get(5));
        assertEquals(new Atomic(0xc3, Size.W, AtomicOp.FETCH_XOR, 10, 5, -8), insns.get(8));
        assertEquals(new Call(CallKind.KFUNC, 0), insns.get(10));
    }

    @Test
    void decodingRandomBytesNeverThrows() {
        Random r = new Random(42);
        for (int n = 0; n < 20_000; n++) {
            long[] s = new long[1 + r.nextInt(4)];
            for (int i = 0; i < s.length; i++) s[i] = r.nextLong();
            String text = new Disassembler().dump(s);
            assertFalse(text.isEmpty());
        }
        assertThrows(IllegalArgumentException.class, () -> Decoder.slots(new byte[7]));
    }
}
