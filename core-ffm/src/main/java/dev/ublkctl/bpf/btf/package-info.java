/**
 * BTF and BTF.ext: parsing (all kinds up to ENUM64), type resolution, re-encoding and kernel
 * sanitizing, and rendering of raw values as JSON ({@link dev.ublkctl.bpf.btf.BtfFormatter}).
 * Bad input is a {@link dev.ublkctl.bpf.btf.BtfException}. See docs/loader.md.
 */
package dev.ublkctl.bpf.btf;
