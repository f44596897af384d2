package dev.ublkctl.bpf.jit;

/** The outcome of compiling one program: a class, or the interpreter with the reason. */
public sealed interface Compilation {
    /** Nanoseconds translating (and, for a class, defining) took. */
    long compileNanos();

    /** One line for listings: "jit (N bytes of bytecode, T ms)" or "interpreter fallback: reason". */
    String describe();

    record Compiled(JitCode code, int bytecodeSize, long compileNanos) implements Compilation {
        @Override public String describe() {
            return String.format("jit (%d bytes of bytecode, compiled in %.2f ms)", bytecodeSize, compileNanos / 1e6);
        }
    }

    record Fallback(String reason, long compileNanos) implements Compilation {
        @Override public String describe() { return "interpreter fallback: " + reason; }
    }
}
