/**
 * A JIT for the eBPF VM: {@link dev.ublkctl.bpf.jit.JitEngine} translates a prepared
 * {@link dev.ublkctl.bpf.vm.VmProgram} to a JVM hidden class ({@code java.lang.classfile}) that HotSpot
 * compiles to machine code, with the interpreter's results, memory checks, budget and faults.
 * See docs/vm.md, "The JIT".
 */
package dev.ublkctl.bpf.jit;
