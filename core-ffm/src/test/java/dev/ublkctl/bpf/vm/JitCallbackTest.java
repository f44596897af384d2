package dev.ublkctl.bpf.vm;

import dev.ublkctl.bpf.jit.JitEngine;

/** Every {@link CallbackTest} case on the JIT engine: same results, memory and faults as the interpreter. */
class JitCallbackTest extends CallbackTest {
    @Override ExecutionEngine engine() { return new JitEngine(); }
}
