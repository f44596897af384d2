package dev.ublkctl.cli;

import dev.ublkctl.cli.common.Session;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.daemon.Json;
import dev.ublkctl.daemon.RunDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs ublkctl command lines as a user would, in this JVM (fast) or as a real process (exit
 * codes, start-up), against an isolated run dir; kills every daemon it started.
 */
final class CliHarness implements AutoCloseable {

    record Result(int code, String out, String err) {
        JsonNode json() {
            try {
                return Json.mapper().readTree(out);
            } catch (java.io.IOException e) {
                throw new AssertionError("not JSON: " + out + " / " + err, e);
            }
        }
        /** stderr lines that are not blank. */
        List<String> errLines() { return err.lines().filter(l -> !l.isBlank()).toList(); }
    }

    final Path runDir;

    CliHarness(Path runDir) {
        this.runDir = runDir;
        System.setProperty(RunDir.PROPERTY, runDir.toString());
        Session.reset();
    }

    /** A sparse file of {@code size} bytes beside the run dir (the test's own directory). */
    Path file(String name, long size) throws java.io.IOException {
        Path p = runDir.getParent().resolve(name);
        try (var f = new java.io.RandomAccessFile(p.toFile(), "rw")) { f.setLength(size); }
        return p;
    }

    /** Asserts exit 0, showing both streams otherwise. */
    static void ok(Result r) {
        org.junit.jupiter.api.Assertions.assertEquals(0, r.code(), () -> "exit " + r.code() + "\nout: " + r.out() + "\nerr: " + r.err());
    }

    /** In-process: Cli.execute with captured streams. */
    Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Cli.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    /** As a separate process through Main, as the launcher runs it. */
    Result process(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dev.ublkctl.cli.Main");
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put(RunDir.ENV, runDir.toString());
        pb.environment().put("NO_COLOR", "1");
        Path outF = runDir.getParent().resolve("p.out"), errF = runDir.getParent().resolve("p.err");
        pb.redirectOutput(outF.toFile()).redirectError(errF.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("ublkctl " + String.join(" ", args) + " did not finish in 60 s");
        }
        return new Result(p.exitValue(), java.nio.file.Files.readString(outF), java.nio.file.Files.readString(errF));
    }

    /** Daemons this JVM started (children running dev.ublkctl.daemon.Daemon). */
    static List<ProcessHandle> daemons() {
        return ProcessHandle.current().descendants()
                .filter(h -> h.info().arguments().map(a -> List.of(a).contains("dev.ublkctl.daemon.Daemon")).orElse(false))
                .toList();
    }

    static boolean waitGone(List<ProcessHandle> hs, Duration d) throws InterruptedException {
        long end = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < end) {
            if (hs.stream().noneMatch(ProcessHandle::isAlive)) return true;
            Thread.sleep(20);
        }
        return false;
    }

    @Override
    public void close() throws Exception {
        List<ProcessHandle> ds = daemons();
        ds.forEach(ProcessHandle::destroy);
        if (!waitGone(ds, Duration.ofSeconds(5))) ds.forEach(ProcessHandle::destroyForcibly);
        waitGone(ds, Duration.ofSeconds(5));
        System.clearProperty(RunDir.PROPERTY);
        Session.reset();
    }
}
