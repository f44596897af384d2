/**
 * ELF64 relocatable object reader for BPF objects: header, sections, symbols, REL relocations
 * (R_BPF_64_64, R_BPF_64_32, R_BPF_64_ABS64/ABS32, R_BPF_64_NODYLD32). Every offset and size is
 * checked; bad input is an {@link dev.ublkctl.bpf.elf.ElfException}. See docs/loader.md.
 */
package dev.ublkctl.bpf.elf;
