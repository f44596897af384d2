package dev.ublkctl.engine;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The bundled BPF objects (built by the bpf-objects module) and test programs compiled with clang. */
final class BpfFixtures {
    private BpfFixtures() {}

    static final Path BPF_OBJECTS = Path.of("..", "bpf-objects").toAbsolutePath().normalize();

    /** {@code bpf-objects/target/classes/bpf/<name>.o}; skips the test if it was not built. */
    static Path bundled(String name) {
        Path p = BPF_OBJECTS.resolve("target/classes/bpf/" + name + ".o");
        Assumptions.assumeTrue(Files.isRegularFile(p), "BPF object " + p + " not built (mvn -pl bpf-objects generate-resources)");
        return p;
    }

    /** Compiles a test program from {@code src/test/resources/bpf/<name>.c} into {@code dir}; skips without clang. */
    static Path compile(String name, Path dir) throws IOException, InterruptedException {
        Path src = Path.of("src/test/resources/bpf/" + name + ".c").toAbsolutePath();
        Path out = dir.resolve(name + ".o");
        List<String> cmd = new ArrayList<>(List.of("clang", "-target", "bpf", "-mcpu=v3", "-O2", "-g", "-Wall",
                "-I" + BPF_OBJECTS.resolve("include"), "-c", src.toString(), "-o", out.toString()));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("clang not available: " + e.getMessage());
            throw e;
        }
        String log = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException("clang failed for " + src + ":\n" + log);
        return out;
    }
}
