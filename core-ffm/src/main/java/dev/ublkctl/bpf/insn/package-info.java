/**
 * eBPF instructions: {@link dev.ublkctl.bpf.insn.Decoder} turns bytecode into
 * {@link dev.ublkctl.bpf.insn.Instruction} records, {@link dev.ublkctl.bpf.insn.Disassembler} prints them
 * like bpftool, {@link dev.ublkctl.bpf.insn.Asm} assembles hand-written programs.
 */
package dev.ublkctl.bpf.insn;
