package dev.ublkctl.cli.common;

import dev.ublkctl.bpf.jit.EngineKind;
import picocli.CommandLine.Option;

/** {@code --engine jit|interp}, the same on every command that runs a program (a picocli mixin). */
public final class EngineOption {
    @Option(names = "--engine", paramLabel = "ENGINE", defaultValue = "jit", converter = Names.EngineName.class,
            completionCandidates = Names.Engines.class,
            description = "What runs the BPF program: jit (compiled to JVM bytecode, the default) or interp (the interpreter).")
    EngineKind engine = EngineKind.DEFAULT;

    public EngineKind kind() { return engine; }
}
