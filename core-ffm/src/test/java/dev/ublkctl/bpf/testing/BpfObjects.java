package dev.ublkctl.bpf.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test access to BPF objects: the ones bpf-objects built (../bpf-objects/target/classes/bpf/), or
 * compiled here with clang from the module's sources or from test snippets. Tests that need an
 * object skip with a printed reason when neither is possible.
 */
public final class BpfObjects {
    private BpfObjects() {}

    private static final Path MODULE = Path.of("..", "bpf-objects").toAbsolutePath().normalize();
    private static final Path INCLUDE = MODULE.resolve("include");
    private static Path cacheDir;
    private static Boolean clang;

    public static boolean clangAvailable() {
        if (clang == null) {
            try {
                Process p = new ProcessBuilder("clang", "--version").redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                clang = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
            } catch (IOException | InterruptedException e) {
                clang = false;
            }
        }
        return clang;
    }

    /** Skips the calling test (with the reason printed) unless clang and the bpf-objects headers exist. */
    public static void assumeClang() {
        boolean ok = clangAvailable() && Files.isRegularFile(INCLUDE.resolve("ublk_bpf.h"));
        if (!ok) System.out.println("SKIP: clang or " + INCLUDE + "/ublk_bpf.h not available");
        Assumptions.assumeTrue(ok, "clang or " + INCLUDE + "/ublk_bpf.h not available");
    }

    /**
     * The bundled object {@code name} ("null", "loop", "stripe", "test/sockfilter", ...): the file
     * the bpf-objects build produced if present, else compiled from its source into a temp dir.
     */
    public static synchronized Path bundled(String name) {
        Path built = MODULE.resolve("target/classes/bpf/" + name + ".o");
        String src = name.startsWith("test/") ? "src/test-progs/" + name.substring(5) : "src/progs/" + name;
        Path source = MODULE.resolve(src + ".c");
        if (Files.isRegularFile(built) && upToDate(built, source)) return built;
        if (!Files.isRegularFile(source)) {
            System.out.println("SKIP: neither " + built + " nor " + source + " exists");
            Assumptions.abort("neither " + built + " nor " + source + " exists");
        }
        assumeClang();
        try {
            Path out = cache().resolve(name.replace('/', '_') + ".o");
            if (!Files.exists(out)) compileFile(source, out);
            return out;
        } catch (IOException e) {
            throw new AssertionError("compiling " + source + ": " + e.getMessage(), e);
        }
    }

    /** The built object is newer than its source and the headers (else it is rebuilt here). */
    private static boolean upToDate(Path built, Path source) {
        try {
            var t = Files.getLastModifiedTime(built);
            if (Files.isRegularFile(source) && Files.getLastModifiedTime(source).compareTo(t) > 0) return false;
            try (var headers = Files.list(INCLUDE)) {
                for (Path h : (Iterable<Path>) headers::iterator)
                    if (h.toString().endsWith(".h") && Files.getLastModifiedTime(h).compareTo(t) > 0) return false;
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public static byte[] bundledBytes(String name) {
        try {
            return Files.readAllBytes(bundled(name));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Compiles C {@code source} (which may include "ublk_bpf.h") and returns the object's bytes. */
    public static byte[] compile(String name, String source) {
        assumeClang();
        try {
            Path dir = cache();
            Path c = dir.resolve(name + ".c");
            Files.writeString(c, source);
            Path o = dir.resolve(name + ".o");
            compileFile(c, o);
            return Files.readAllBytes(o);
        } catch (IOException e) {
            throw new AssertionError("compiling " + name + ": " + e.getMessage(), e);
        }
    }

    /** All bundled object names. */
    public static List<String> bundledNames() {
        List<String> names = new ArrayList<>(List.of("null", "loop", "stripe", "qcow2"));
        names.addAll(List.of("test/sockfilter", "test/xdp", "test/syscall"));
        return names;
    }

    private static void compileFile(Path c, Path o) throws IOException {
        List<String> cmd = List.of("clang", "-target", "bpf", "-mcpu=v3", "-O2", "-g", "-Wall",
                "-I" + INCLUDE, "-I" + INCLUDE.resolve("compat"), "-c", c.toString(), "-o", o.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("clang timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (p.exitValue() != 0) throw new IOException("clang failed:\n" + log);
    }

    private static Path cache() throws IOException {
        if (cacheDir == null) {
            Path dir = Files.createTempDirectory("ublkctl-bpf-test");
            cacheDir = dir;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try (var files = Files.list(dir)) {
                    files.forEach(f -> f.toFile().delete());
                } catch (IOException ignored) {
                    // best effort: a temp dir left behind is harmless
                }
                dir.toFile().delete();
            }));
        }
        return cacheDir;
    }
}
