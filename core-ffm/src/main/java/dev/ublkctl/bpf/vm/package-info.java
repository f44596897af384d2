/**
 * The in-process eBPF VM: {@link dev.ublkctl.bpf.vm.VmProgram} (prepared program),
 * {@link dev.ublkctl.bpf.vm.ExecutionEngine} and its reference {@link dev.ublkctl.bpf.vm.Interpreter},
 * {@link dev.ublkctl.bpf.vm.VmContext} (per-thread registers, stacks and region table),
 * {@link dev.ublkctl.bpf.vm.FunctionRegistry} (helpers and kfuncs). See docs/vm.md.
 */
package dev.ublkctl.bpf.vm;
