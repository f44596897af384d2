package dev.ublkctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code add -t qcow2} against a real daemon, with QEMU's tools as the independent side: the
 * program's mapping warms, a bad image is refused in one line and left alone, and a daemon killed
 * in the middle of writes leaves images {@code qemu-img check} accepts, with flushed data present.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class Qcow2EndToEndTest {
    @TempDir Path tmp;
    CliHarness cli;

    @BeforeEach
    void setUp() {
        for (String t : new String[]{"qemu-img", "qemu-io"}) {
            boolean found = false;
            for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) found |= Files.isExecutable(Path.of(d, t));
            Assumptions.assumeTrue(found, t + " is not installed (Debian package qemu-utils): skipping the qcow2 end-to-end tests");
        }
        cli = new CliHarness(tmp.resolve("run"));
    }

    @AfterEach
    void tearDown() throws Exception { if (cli != null) cli.close(); }

    record Run(int exit, String out) { }

    static Run sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(p.waitFor(), out);
    }

    static void ok(String... cmd) throws Exception {
        Run r = sh(cmd);
        assertEquals(0, r.exit(), String.join(" ", cmd) + ": " + r.out());
    }

    Path image(String name, String size) throws Exception {
        Path p = tmp.resolve(name);
        ok("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=65536", p.toString(), size);
        ok("qemu-io", "-f", "qcow2", "-c", "write -P 0x5c 0 2m", p.toString());
        return p;
    }

    /** No errors and no corruption; leaked clusters (exit 3) are what a kill may leave. */
    static void assertConsistent(Path img, boolean leaksAllowed) throws Exception {
        Run r = sh("qemu-img", "check", img.toString());
        assertTrue(r.exit() == 0 || (leaksAllowed && r.exit() == 3), "qemu-img check exit " + r.exit() + ": " + r.out());
        assertFalse(r.out().contains("ERROR"), r.out());
    }

    @Test
    void servesWithTheProgramAndTheMappingWarms() throws Exception {
        Path img = image("d.qcow2", "16m");
        CliHarness.ok(cli.run("add", "-t", "qcow2", "-f", img.toString(), "--bpf", "qcow2", "-q", "1"));
        var list = cli.run("list");
        CliHarness.ok(list);
        assertTrue(list.out().contains("qcow2"), list.out());
        CliHarness.ok(cli.run("verify", "-n", "0", "--length", "4m"));
        CliHarness.ok(cli.run("bench", "-n", "0", "--rw", "randread", "--runtime", "1", "--iodepth", "16"));
        JsonNode s = cli.run("stats", "-n", "0", "--json").json();
        JsonNode m = s.get("mapping");
        assertNotNull(m, s.toString());
        assertEquals("qcow2_map", m.get("map").asText());
        // the target sized the map (the object says 65536): a 16 MiB image has 256 clusters, the floor is 1024
        assertEquals(1024, m.get("maxEntries").asLong(), m.toString());
        assertTrue(m.get("entries").asLong() >= 64, "the verified 4 MiB is mapped: " + m);
        assertTrue(m.get("hits").asLong() > 0 && m.get("misses").asLong() > 0, m.toString());
        assertTrue(s.get("total").get("bpfHandled").asLong() > 0, s.toString());
        var text = cli.run("stats", "-n", "0");
        assertTrue(text.out().contains("mapping: qcow2_map holds"), text.out());
        CliHarness.ok(cli.run("del", "-a"));
        assertConsistent(img, false);
    }

    static String sha(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }

    @Test
    void aBadImageIsRefusedInOneLine() throws Exception {
        Path img = image("bad.qcow2", "4m");
        try (var f = new java.io.RandomAccessFile(img.toFile(), "rw")) {
            f.seek(40);                  // l1_table_offset
            f.writeLong(1L << 40);       // far past the end
        }
        String before = sha(img);
        var r = cli.run("add", "-t", "qcow2", "-f", img.toString());
        assertNotEquals(0, r.code());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("L1 table") && r.err().contains("past the end"), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
        assertEquals(before, sha(img), "nothing written");
        var raw = cli.run("add", "-t", "qcow2", "-f", cli.file("plain.raw", 1 << 20).toString());
        assertTrue(raw.err().contains("not a qcow2 image"), raw.err());
    }

    /** kill -9 of the daemon while it writes: both images stay consistent; what was flushed is there. */
    @Test
    void killedInTheMiddleOfWritesLeavesAConsistentImage() throws Exception {
        Path a = image("a.qcow2", "8m"), b = image("b.qcow2", "64m");
        CliHarness.ok(cli.run("add", "-t", "qcow2", "-f", a.toString(), "--bpf", "qcow2", "-q", "1"));
        CliHarness.ok(cli.run("add", "-t", "qcow2", "-f", b.toString(), "-q", "2"));
        CliHarness.ok(cli.run("verify", "-n", "0", "--length", "2m"));   // writes, flushes, reads back
        Path flushed = tmp.resolve("a-flushed.raw");
        ok("qemu-img", "convert", "-U", "-O", "raw", a.toString(), flushed.toString());
        // random writes over unallocated space (allocation: refcount, data, L2, L1) on device 1, then kill -9
        Thread bench = new Thread(() -> cli.run("bench", "-n", "1", "--rw", "randwrite", "--runtime", "20", "--iodepth", "32"));
        bench.start();
        ProcessHandle daemon = CliHarness.daemons().getFirst();
        Thread.sleep(2500);
        daemon.destroyForcibly();
        assertTrue(CliHarness.waitGone(java.util.List.of(daemon), java.time.Duration.ofSeconds(10)), "the daemon died");
        bench.join(30_000);
        assertConsistent(b, true);
        assertConsistent(a, true);
        Run cmp = sh("qemu-img", "compare", "-f", "qcow2", "-F", "raw", a.toString(), flushed.toString());
        assertEquals(0, cmp.exit(), "flushed data survives: " + cmp.out());
        cli.run("del", "-a");
    }
}
