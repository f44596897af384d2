package dev.ublkctl.bpf.vm;

/**
 * Thrown by {@code bpf_tail_call} when the jump is taken: it unwinds the running program (whose frame the
 * kernel replaces) to the engine's run loop, which starts the target with the context the helper recorded
 * ({@link VmContext#tailTarget()}). An {@link Error} so that the engines' handlers, which turn exceptions
 * from helpers into faults, let it through; one shared instance without a stack trace, so it costs no
 * allocation. Engines catch it only around a whole run.
 */
public final class TailCall extends Error {
    static final TailCall INSTANCE = new TailCall();

    private TailCall() { super("tail call", null, false, false); }
}
