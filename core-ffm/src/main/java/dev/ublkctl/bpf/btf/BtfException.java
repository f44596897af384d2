package dev.ublkctl.bpf.btf;

/** Malformed BTF or BTF.ext data, or a type that cannot be resolved. */
public final class BtfException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BtfException(String message) { super(message); }
}
