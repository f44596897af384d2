package dev.ublkctl.cli;

import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.StructOpsSpec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

/** Reads BPF object files (or bundled programs) for the commands, with one-line errors. */
public final class Objects {
    private Objects() {}

    /** The kernel struct a ublk program must fill. */
    public static final String UBLK_OPS = "ublk_bpf_ops";

    /** Loads a bundled program by name or an object file by path (as {@link Programs#resolve} gives it). */
    public static BpfObject load(String program) {
        String resolved = Programs.resolve(program);
        try {
            if (!resolved.startsWith("/")) {
                try (InputStream in = Objects.class.getResourceAsStream("/bpf/" + resolved + ".o")) {
                    if (in == null) throw CliException.usage("bundled program '" + resolved + "' is missing from this build");
                    return BpfObject.parse(in.readAllBytes(), resolved);
                }
            }
            return BpfObject.load(Path.of(resolved));
        } catch (IOException e) {
            throw CliException.usage("cannot read " + resolved + ": " + e.getMessage());
        } catch (CliException e) {
            throw e;
        } catch (RuntimeException e) {
            throw CliException.usage("not a usable BPF object: " + e.getMessage());
        }
    }

    /** The object's {@code struct ublk_bpf_ops}, or a usage error saying it has none. */
    public static StructOpsSpec requireUblkOps(BpfObject obj, String shownName) {
        return obj.structOps().stream().filter(s -> s.typeName().equals(UBLK_OPS)).findFirst()
                .orElseThrow(() -> CliException.usage(shownName + " has no struct " + UBLK_OPS
                        + " (a ublk program defines one in SEC(\".struct_ops\"))"));
    }
}
