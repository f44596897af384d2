package dev.ublkctl.target.qcow2;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** QEMU's own image tools (qemu-img, qemu-io) as the independent side of the qcow2 tests. */
public final class QemuTools {
    private QemuTools() { }

    /** The result of one tool run. */
    public record Run(int exit, String output) { }

    /** Skips the calling test, saying why, when qemu-img or qemu-io is not installed. */
    public static void assumeInstalled() {
        for (String t : List.of("qemu-img", "qemu-io")) {
            boolean found = false;
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":"))
                if (Files.isExecutable(Path.of(dir, t))) found = true;
            Assumptions.assumeTrue(found, t + " is not installed (Debian package qemu-utils): skipping the qcow2 comparison");
        }
    }

    public static Run run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return new Run(p.waitFor(), out);
        } catch (IOException e) {
            throw new IllegalStateException(String.join(" ", cmd) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Runs and insists on exit 0. */
    public static String ok(String... cmd) {
        Run r = run(cmd);
        if (r.exit != 0) throw new AssertionError(String.join(" ", cmd) + " exited " + r.exit + ": " + r.output);
        return r.output;
    }

    /** {@code qemu-img create -f qcow2} with {@code -o} options. */
    public static Path create(Path p, String options, long size) {
        ok("qemu-img", "create", "-q", "-f", "qcow2", "-o", options, p.toString(), Long.toString(size));
        return p;
    }

    /** qemu-io commands on a qcow2 image ({@code write -P 0x11 0 64k}, ...). */
    public static void io(Path img, String... commands) {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(img.toString());
        String out = ok(cmd.toArray(String[]::new));
        if (out.contains("error") || out.contains("failed")) throw new AssertionError("qemu-io: " + out);
    }

    /** The image as QEMU reads it: {@code qemu-img convert -O raw}. */
    public static byte[] raw(Path img) throws IOException {
        Path out = Files.createTempFile(img.getParent(), "raw", ".img");
        try {
            ok("qemu-img", "convert", "-O", "raw", img.toString(), out.toString());
            return Files.readAllBytes(out);
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
