package dev.ublkctl.bpf.vm;

import static dev.ublkctl.bpf.insn.Asm.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.ublkctl.bpf.insn.Asm;
import dev.ublkctl.bpf.insn.Instruction.Size;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;

class ConformanceTest {
    /** The engine the plugin runs on: the interpreter here, the JIT in {@link JitConformanceTest}. */
    ExecutionEngine engine() { return new Interpreter(); }

    String[] runPlugin(String stdin, String... args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = Conformance.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.US_ASCII)),
                new PrintStream(out, true, StandardCharsets.UTF_8), engine());
        return new String[]{Integer.toString(status), out.toString(StandardCharsets.UTF_8).strip()};
    }

    @Test
    void programOnStdinMemoryAsArgument() throws Exception {
        // r0 = *(u32 *)(r1 + 0) + r2 (the memory length)
        String prog = HexFormat.of().formatHex(new Asm().ldx(Size.W, R0, R1, 0).alu64(dev.ublkctl.bpf.insn.Instruction.AluOp.ADD, R0, R2).exit().bytes());
        String[] r = runPlugin(prog + "\n", "efbeadde00000000");
        assertEquals("0", r[0]);
        assertEquals("deadbef7", r[1]);
    }

    @Test
    void programAsOptionAndNegativeResultInHex() throws Exception {
        String prog = HexFormat.of().formatHex(new Asm().mov64(R0, -1).exit().bytes());
        String[] r = runPlugin("", "--program", prog);
        assertEquals("0", r[0]);
        assertEquals("ffffffffffffffff", r[1]);
    }

    @Test
    void faultsExitNonZeroWithAMessage() throws Exception {
        String prog = HexFormat.of().formatHex(new Asm().ldx(Size.DW, R0, R1, 0).exit().bytes());
        String[] r = runPlugin(prog, "");
        assertEquals("1", r[0]);
        assertTrue(r[1].contains("invalid load"), r[1]);
        assertEquals("2", runPlugin("zz")[0]);
        assertEquals("1", runPlugin("b7000000")[0]);
    }
}
