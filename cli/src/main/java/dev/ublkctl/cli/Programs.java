package dev.ublkctl.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Resolves a PROGRAM argument: a bundled name (resource /bpf/NAME.o) or an object file path. */
public final class Programs {
    private Programs() {}

    public static final String[] BUNDLED = {"null", "loop", "stripe"};

    /** Returns the bundled name, or the absolute path of an existing file; else a usage error. */
    public static String resolve(String program) {
        if (Programs.class.getResource("/bpf/" + program + ".o") != null) return program;
        Path p = Path.of(program);
        if (Files.isRegularFile(p)) return p.toAbsolutePath().normalize().toString();
        if (!program.contains("/") && !program.endsWith(".o")) {
            throw CliException.usage("unknown BPF program '" + program + "': not bundled (bundled: "
                    + String.join(", ", bundledPresent()) + ") and no such file");
        }
        throw CliException.usage("no such object file: " + program);
    }

    /** The bundled programs whose objects are on the classpath. */
    public static java.util.List<String> bundledPresent() {
        var l = new java.util.ArrayList<String>();
        for (String b : BUNDLED) if (Programs.class.getResource("/bpf/" + b + ".o") != null) l.add(b);
        if (l.isEmpty()) l.add("none in this build");
        return l;
    }
}
