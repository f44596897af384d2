package dev.ublkctl.bpf.vm;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * A bpf_conformance plugin: reads the program as base16 from stdin (or {@code --program HEX}), takes the
 * initial memory as base16 in the first positional argument, runs the program with r1 = pointer to that
 * memory and r2 = its length, and prints r0 in lowercase hex (no {@code 0x}). On a fault it prints the
 * fault and exits with status 1; on bad usage, status 2.
 */
public final class Conformance {
    private Conformance() {}

    public static void main(String[] args) throws IOException {
        int status = run(args, System.in, System.out);
        System.out.flush();
        System.exit(status);
    }

    /** The plugin without {@code System.exit}, on the interpreter: returns the exit status. */
    public static int run(String[] args, InputStream stdin, PrintStream out) throws IOException {
        return run(args, stdin, out, new Interpreter());
    }

    /** The plugin without {@code System.exit}, on {@code vm}: returns the exit status. */
    public static int run(String[] args, InputStream stdin, PrintStream out, ExecutionEngine vm) throws IOException {
        String programHex = null, memoryHex = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--program")) {
                if (i + 1 >= args.length) { out.println("--program needs a hex string"); return 2; }
                programHex = args[++i];
            } else if (a.startsWith("--program=")) {
                programHex = a.substring("--program=".length());
            } else if (a.startsWith("--")) {
                // options of other plugins (e.g. --debug) are accepted and ignored
            } else if (memoryHex == null) {
                memoryHex = a;
            } else {
                out.println("unexpected argument " + a);
                return 2;
            }
        }
        if (programHex == null) programHex = readAll(stdin);
        byte[] program, memory;
        try {
            program = hex(programHex);
            memory = memoryHex == null ? new byte[0] : hex(memoryHex);
        } catch (IllegalArgumentException e) {
            out.println("invalid base16 input: " + e.getMessage());
            return 2;
        }
        if (program.length == 0 || program.length % 8 != 0) {
            out.println("program length " + program.length + " is not a positive multiple of 8");
            return 1;
        }
        try {
            VmProgram p = VmProgram.builder("conformance", program).prepare();
            VmContext ctx = new VmContext();
            long r0;
            if (memory.length == 0) {
                r0 = vm.run(p, ctx, 0, 0, 0, 0, 0);
            } else {
                long addr = ctx.addRegion(MemorySegment.ofArray(memory), true, "memory");
                r0 = vm.run(p, ctx, addr, memory.length, 0, 0, 0);
            }
            out.println(Long.toHexString(r0));
            return 0;
        } catch (VmFault f) {
            out.println(f.getMessage());
            return 1;
        }
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        in.transferTo(b);
        return b.toString(StandardCharsets.US_ASCII);
    }

    /** Base16 with any whitespace ignored. */
    static byte[] hex(String s) {
        String t = s.replaceAll("\\s+", "");
        if (t.startsWith("0x") || t.startsWith("0X")) t = t.substring(2);
        return HexFormat.of().parseHex(t);
    }
}
