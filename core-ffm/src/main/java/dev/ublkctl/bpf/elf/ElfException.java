package dev.ublkctl.bpf.elf;

/** A malformed or unsupported ELF file: truncated, offsets out of range, wrong class or machine. */
public final class ElfException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ElfException(String message) { super(message); }
}
