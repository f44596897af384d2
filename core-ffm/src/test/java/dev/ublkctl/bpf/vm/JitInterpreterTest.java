package dev.ublkctl.bpf.vm;

import dev.ublkctl.bpf.jit.JitEngine;

/** Every {@link InterpreterTest} case on the JIT engine: same results, memory and faults as the interpreter. */
class JitInterpreterTest extends InterpreterTest {
    @Override ExecutionEngine engine() { return new JitEngine(); }
}
