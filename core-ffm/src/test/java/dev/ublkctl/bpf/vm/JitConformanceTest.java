package dev.ublkctl.bpf.vm;

import dev.ublkctl.bpf.jit.JitEngine;

/** The bpf_conformance plugin cases on the JIT engine. */
class JitConformanceTest extends ConformanceTest {
    @Override ExecutionEngine engine() { return new JitEngine(); }
}
