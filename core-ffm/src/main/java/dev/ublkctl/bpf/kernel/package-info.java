/**
 * The kernel side of eBPF: bpf(2) commands through FFM (maps, BTF, programs, test runs,
 * pinning, info, stats). The kernel is the oracle the VM is checked against.
 */
package dev.ublkctl.bpf.kernel;
