package dev.ublkctl.bpf.object;

/**
 * A well-formed ELF/BTF file that is not a usable BPF object: relocation to nowhere, call to an
 * undefined function, unknown program section, bad map definition, ...
 */
public final class ObjectException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ObjectException(String message) { super(message); }

    public ObjectException(String message, Throwable cause) { super(message, cause); }
}
