package dev.ublkctl.bpf.vm;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Helpers by id and kfuncs by name. Programs resolve their calls against a registry when they are
 * prepared ({@link VmProgram.Builder#prepare()}); an unknown id or name fails there, naming it.
 * Register everything before preparing programs that use it.
 * <pre>{@code
 * FunctionRegistry reg = FunctionRegistry.standard();        // map ops, bpf_printk, ktime, ...
 * reg.register("ublk_bpf_complete_io", (ctx, io, res, r3, r4, r5) -> { ...; return 0; });
 * }</pre>
 */
public final class FunctionRegistry {
    public record HelperEntry(int id, String name, Helper impl) {}

    private final Map<Integer, HelperEntry> helpers = new ConcurrentHashMap<>();
    private final Map<String, Kfunc> kfuncs = new ConcurrentHashMap<>();
    private final TraceLog traceLog;

    /** An empty registry whose printk output (if a printk helper is registered) goes to {@code log}. */
    public FunctionRegistry(TraceLog log) { this.traceLog = Objects.requireNonNull(log); }

    /** A registry with the standard helpers ({@link StandardHelpers}) and a fresh {@link TraceLog}. */
    public static FunctionRegistry standard() { return standard(new TraceLog()); }

    public static FunctionRegistry standard(TraceLog log) {
        FunctionRegistry r = new FunctionRegistry(log);
        StandardHelpers.registerAll(r);
        return r;
    }

    public TraceLog traceLog() { return traceLog; }

    public FunctionRegistry registerHelper(int id, String name, Helper impl) {
        helpers.put(id, new HelperEntry(id, Objects.requireNonNull(name), Objects.requireNonNull(impl)));
        return this;
    }

    /** Registers (or replaces) the kfunc called {@code name} (its BTF name). */
    public FunctionRegistry register(String name, Kfunc impl) {
        kfuncs.put(Objects.requireNonNull(name), Objects.requireNonNull(impl));
        return this;
    }

    public HelperEntry helper(int id) { return helpers.get(id); }
    public Kfunc kfunc(String name) { return kfuncs.get(name); }
    public boolean hasKfunc(String name) { return kfuncs.containsKey(name); }
}
