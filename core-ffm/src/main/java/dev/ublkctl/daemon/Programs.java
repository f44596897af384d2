package dev.ublkctl.daemon;

import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.engine.UblkProgram;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads the program of {@code device.add} / {@code device.attach}: {@code PROGRAM[:OPS]} where
 * PROGRAM is a bundled name (resource {@code /bpf/NAME.o}) or an absolute object path, and OPS
 * picks a {@code struct ublk_bpf_ops} by variable name or {@code .id} (default: the first).
 */
final class Programs {
    private Programs() {}

    /** A loaded program and where it came from. */
    /**
     * @param spec what loads the same program again ({@code OBJECT:OPS} with the ops variable
     *             named), kept in the device record for {@code recover}
     */
    record Loaded(UblkProgram program, String source, String spec) { }

    /** The engine a request names ("jit", "interp"; null for the default), as an invalid-params error otherwise. */
    static EngineKind engine(String name) {
        try {
            return EngineKind.parse(name);
        } catch (IllegalArgumentException e) {
            throw RpcException.invalid(e.getMessage());
        }
    }

    static Loaded load(String spec) { return load(spec, EngineKind.DEFAULT); }

    /** Loads {@code spec} with its programs on {@code engine} (compiled here, before the device runs them). */
    static Loaded load(String spec, EngineKind engine) {
        String obj = spec, ops = null;
        int colon = spec.lastIndexOf(':');
        if (colon > 0 && spec.indexOf('/', colon) < 0) {
            obj = spec.substring(0, colon);
            ops = spec.substring(colon + 1);
        }
        BpfObject o;
        String source;
        try {
            if (!obj.startsWith("/")) {
                try (InputStream in = Programs.class.getResourceAsStream("/bpf/" + obj + ".o")) {
                    if (in == null) throw RpcException.invalid("no bundled program '" + obj + "'");
                    o = BpfObject.parse(in.readAllBytes(), obj);
                }
                source = "bundled:" + obj;
            } else {
                if (!Files.isRegularFile(Path.of(obj))) throw RpcException.invalid("no such object file: " + obj);
                o = BpfObject.load(Path.of(obj));
                source = obj;
            }
        } catch (IOException e) {
            throw RpcException.invalid("cannot read " + obj + ": " + e.getMessage());
        } catch (RpcException e) {
            throw e;
        } catch (RuntimeException e) {
            throw RpcException.invalid("not a usable BPF object: " + e.getMessage());
        }
        UblkProgram p;
        try {
            if (ops == null) {
                var first = o.structOps().stream().filter(s -> s.typeName().equals(UblkProgram.OPS_TYPE)).findFirst()
                        .orElseThrow(() -> RpcException.invalid(o.name() + " has no struct " + UblkProgram.OPS_TYPE));
                p = UblkProgram.load(o, first.name(), engine.create());
            } else if (ops.chars().allMatch(Character::isDigit)) {
                p = UblkProgram.load(o, Integer.parseInt(ops), engine.create());
            } else {
                p = UblkProgram.load(o, ops, engine.create());
            }
        } catch (IllegalArgumentException e) {
            throw RpcException.invalid(e.getMessage());
        }
        return new Loaded(p, source, obj + ":" + p.name());
    }
}
