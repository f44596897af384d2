package dev.ublkctl.nbd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Outside NBD programs (libnbd-bin, qemu-utils, nbdkit) for the tests: found on PATH, run with a deadline. */
final class Tools {
    private Tools() {}

    record Result(int exit, String out) { }

    static boolean has(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) return true;
        }
        return false;
    }

    /** Skips the test, saying why, when {@code tool} is not installed. */
    static void need(String tool, String pkg) {
        boolean ok = has(tool);
        if (!ok) System.out.println("SKIP: " + tool + " not installed (Debian package " + pkg + "; scripts/setup installs it)");
        assumeTrue(ok, tool + " not installed (" + pkg + ")");
    }

    /** Runs a command to its end (killed after 60 s); stdout and stderr together. */
    static Result run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, "timed out: " + String.join(" ", cmd));
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /** Runs a command that must succeed; its output. */
    static String ok(String... cmd) throws IOException, InterruptedException {
        Result r = run(cmd);
        if (r.exit() != 0) throw new AssertionError(String.join(" ", cmd) + " exited " + r.exit() + ":\n" + r.out());
        return r.out();
    }

    /** Starts a server process and waits (bounded) until its Unix socket exists. */
    static Process serve(Path socket, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        for (int i = 0; i < 200 && !Files.exists(socket); i++) {
            if (!p.isAlive()) throw new AssertionError(String.join(" ", cmd) + " exited " + p.exitValue());
            Thread.sleep(25);
        }
        if (!Files.exists(socket)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " made no socket " + socket);
        }
        return p;
    }

    static void stop(Process p) throws InterruptedException {
        if (p == null) return;
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
    }
}
