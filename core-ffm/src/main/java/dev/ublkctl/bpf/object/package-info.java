/**
 * What a BPF object file declares, as plain data: {@link dev.ublkctl.bpf.object.BpfObject} with
 * {@link dev.ublkctl.bpf.object.ProgramSpec}s (relocated and linked instructions),
 * {@link dev.ublkctl.bpf.object.MapSpec}s and {@link dev.ublkctl.bpf.object.StructOpsSpec}s.
 * Nothing here is loaded anywhere; the VM and the bpf(2) side consume these specs.
 * The relocation conventions are documented on ProgramSpec and in docs/loader.md.
 */
package dev.ublkctl.bpf.object;
