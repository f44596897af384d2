package dev.ublkctl.bpf.kernel;

import dev.ublkctl.sys.SyscallException;

/** A failed bpf(2) command; for PROG_LOAD and BTF_LOAD it carries the verifier's log. */
public final class BpfException extends SyscallException {
    private final String log;

    BpfException(String command, String args, int errno, String log) {
        super("bpf", command + (args.isEmpty() ? "" : ", " + args), errno,
                log == null || log.isBlank() ? "" : "verifier log:\n" + log.strip());
        this.log = log == null ? "" : log;
    }

    /** The verifier (or BTF) log the kernel wrote, or "" if none. */
    public String verifierLog() { return log; }
}
