package dev.ublkctl.daemon;

import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.engine.OpsRef;
import dev.ublkctl.engine.UblkProgram;

/**
 * A ublk program as requests and device records name it: an object (a bundled name or an absolute
 * path) and which of its {@code struct ublk_bpf_ops}. A record keeps it as {@code OBJECT:OPS}
 * ({@link #toString()}, read back by {@link #parse}) so that {@code recover} loads the same program.
 *
 * @param object a bundled program name or an absolute object path
 */
public record ProgramRef(String object, OpsRef ops) {
    public ProgramRef {
        if (object == null || object.isEmpty()) throw new IllegalArgumentException("no BPF program named");
        if (ops == null) ops = OpsRef.FIRST;
    }

    /** From a request's {@code bpf} and {@code ops} fields. */
    public static ProgramRef of(String object, String ops) { return new ProgramRef(object, OpsRef.parse(ops)); }

    /**
     * A record's {@code bpf} field: {@code OBJECT[:OPS]}. An object path may hold a colon, the ops
     * never holds a slash: the ops is what follows the last colon after the last slash.
     */
    public static ProgramRef parse(String spec) {
        int colon = spec.lastIndexOf(':');
        if (colon > 0 && spec.indexOf('/', colon) < 0) return of(spec.substring(0, colon), spec.substring(colon + 1));
        return of(spec, null);
    }

    /** Where the object comes from, as {@code prog show} prints it. */
    public String source() { return BpfObject.isBundled(object) ? "bundled:" + object : object; }

    /** Opens the object and loads the ops into the VM (the one loader: {@link UblkProgram#load}). */
    public UblkProgram load() { return UblkProgram.load(BpfObject.open(object), ops); }

    /** {@link #load()} with the programs run (and compiled now, off the I/O path) by {@code engine}. */
    public UblkProgram load(EngineKind engine) {
        return UblkProgram.load(BpfObject.open(object), ops, engine.create());
    }

    /** {@link #load(EngineKind)} with the map sizes the device's target asks for ({@code Target.programMapSizes}). */
    public UblkProgram load(EngineKind engine, java.util.Map<String, Integer> sizes) {
        return UblkProgram.load(BpfObject.open(object), ops, engine.create(), sizes);
    }

    /** The same program with its ops named by variable, as a record keeps it. */
    public ProgramRef pinned(UblkProgram p) { return new ProgramRef(object, OpsRef.named(p.name())); }

    @Override public String toString() { return ops instanceof OpsRef.First ? object : object + ":" + ops; }
}
