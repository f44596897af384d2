package dev.ublkctl.engine;

import dev.ublkctl.bpf.jit.EngineKind;

/** Every {@link BpfFileTest} case with the programs on the JIT engine. */
class JitBpfFileTest extends BpfFileTest {
    @Override EngineKind engine() { return EngineKind.JIT; }
}
