package dev.ublkctl.engine;

import dev.ublkctl.bpf.jit.EngineKind;

/** Every {@link BpfNullTest} case with the programs on the JIT engine. */
class JitBpfNullTest extends BpfNullTest {
    @Override EngineKind engine() { return EngineKind.JIT; }
}
