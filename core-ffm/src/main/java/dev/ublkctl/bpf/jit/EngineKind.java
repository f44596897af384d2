package dev.ublkctl.bpf.jit;

import dev.ublkctl.bpf.vm.ExecutionEngine;
import dev.ublkctl.bpf.vm.Interpreter;
import dev.ublkctl.bpf.vm.VmProgram;

import java.util.Locale;

/**
 * Which engine runs a program: the one place the choice is made ({@code --engine jit|interp}, the daemon's
 * {@code engine} field). {@link #JIT} is the default.
 */
public enum EngineKind {
    JIT, INTERP;

    public static final EngineKind DEFAULT = JIT;

    /** A new engine of this kind (engines are stateless; sharing one is fine too). */
    public ExecutionEngine create() {
        return this == JIT ? new JitEngine() : new Interpreter();
    }

    /** The name used on the command line and in JSON: "jit" or "interp". */
    @com.fasterxml.jackson.annotation.JsonValue
    public String label() { return name().toLowerCase(Locale.ROOT); }

    /** Parses "jit" or "interp" (any case); null or blank gives the default. */
    @com.fasterxml.jackson.annotation.JsonCreator
    public static EngineKind parse(String s) {
        if (s == null || s.isBlank()) return DEFAULT;
        return switch (s.strip().toLowerCase(Locale.ROOT)) {
            case "jit" -> JIT;
            case "interp", "interpreter" -> INTERP;
            default -> throw new IllegalArgumentException("unknown engine '" + s + "' (jit or interp)");
        };
    }

    /** The kind of {@code engine} ("jit" for a {@link JitEngine}, else "interp"). */
    public static EngineKind of(ExecutionEngine engine) {
        return engine instanceof JitEngine ? JIT : INTERP;
    }

    /**
     * What runs {@code program} on this engine, for listings: "interp", "jit", or "interp (jit fallback: reason)",
     * with the compile time when compiled.
     */
    public String describe(VmProgram program) {
        if (this == INTERP) return "interp";
        Compilation c = JitEngine.compile(program);
        return switch (c) {
            case Compilation.Compiled k -> String.format("jit (compiled in %.2f ms, %d bytes of bytecode)", k.compileNanos() / 1e6, k.bytecodeSize());
            case Compilation.Fallback f -> "interp (" + f.describe() + ")";
        };
    }
}
