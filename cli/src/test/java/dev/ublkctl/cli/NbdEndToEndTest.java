package dev.ublkctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.daemon.RunDir;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** export, unexport, add --export, list with exports, and the nbd target on another daemon's exports. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdEndToEndTest {
    @TempDir Path tmp;
    private CliHarness cli;

    @BeforeEach
    void setUp() { cli = new CliHarness(tmp.resolve("run")); }

    @AfterEach
    void tearDown() throws Exception {
        cli.run("del", "-a");
        cli.close();
    }

    private static boolean has(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":"))
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) return true;
        return false;
    }

    @Test
    void addExportListUnexportAndExportOverTcp() throws Exception {
        Path img = cli.file("disk.img", 8 << 20);
        var a = cli.run("add", "-t", "loop", "-f", img.toString(), "--bpf", "loop", "--backend", "emulated", "--export", "--json");
        CliHarness.ok(a);
        JsonNode exp = a.json().get("export");
        Path sock = cli.runDir.resolve("nbd-0.sock");
        assertEquals("nbd+unix:///ublkb0?socket=" + sock, exp.get("uri").asText());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
        // another process reads the record: the export is in it
        var l = cli.process("list");
        CliHarness.ok(l);
        assertTrue(l.out().lines().findFirst().orElseThrow().contains("EXPORT"), l.out());
        assertTrue(l.out().contains(exp.get("uri").asText()), l.out());
        assertEquals(exp.get("uri").asText(), cli.run("list", "--json").json().get(0).get("export").get("uri").asText());
        if (has("qemu-io")) {
            var p = new ProcessBuilder("qemu-io", "-f", "raw", "-c", "write -P 0x7e 0 256k", "-c", "read -P 0x7e 0 256k", exp.get("uri").asText())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertEquals(0, p.waitFor(), out);
            assertFalse(out.contains("Pattern verification failed"), out);
            assertEquals(0x7e, Files.readAllBytes(img)[1000]);
            var st = cli.run("stats", "-n", "0", "--json");
            CliHarness.ok(st);
            assertTrue(st.json().toString().contains("\"bpfHandled\""), st.out());
        } else {
            System.out.println("SKIP qemu-io part: qemu-io not installed (qemu-utils)");
        }
        var again = cli.run("export", "-n", "0");
        assertNotEquals(0, again.code());
        assertEquals(1, again.errLines().size(), again.err());
        assertTrue(again.err().contains("already exported"), again.err());
        var un = cli.run("unexport", "-n", "0", "--json");
        CliHarness.ok(un);
        assertEquals(exp.get("uri").asText(), un.json().get("uri").asText());
        assertFalse(Files.exists(sock));
        assertTrue(cli.run("list", "--json").json().get(0).get("export").isNull());
        assertEquals(ExitCode.NOT_FOUND, cli.run("unexport", "-n", "0").code());
        // TCP: loopback unless told, and it says so
        var t = cli.run("export", "-n", "0", "--listen", "0", "--name", "d0", "--read-only");
        CliHarness.ok(t);
        assertTrue(t.out().strip().matches("nbd://127\\.0\\.0\\.1:\\d+/d0"), t.out());
        assertTrue(t.err().contains("loopback only"), t.err());
        var list = cli.run("list", "-n", "0", "--json").json();
        assertTrue(list.get("export").get("readOnly").asBoolean());
        assertEquals(ExitCode.USAGE, cli.run("export", "-n", "0", "--listen", "x:y").code());
        assertEquals(ExitCode.USAGE, cli.run("export", "-n", "0", "--listen", "1", "--socket", "/tmp/s").code());
    }

    /** The same command line in another process with its own run dir: another daemon. */
    private CliHarness.Result other(Path runDir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "dev.ublkctl.cli.Main"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put(RunDir.ENV, runDir.toString());
        pb.environment().put("NO_COLOR", "1");
        Path o = tmp.resolve("o.out"), e = tmp.resolve("o.err");
        pb.redirectOutput(o.toFile()).redirectError(e.toFile());
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("ublkctl " + String.join(" ", args) + " did not finish");
        }
        return new CliHarness.Result(p.exitValue(), Files.readString(o), Files.readString(e));
    }

    @Test
    void stripeOnAnotherDaemonOverThisDaemonsExports() throws Exception {
        Path a = cli.file("a.img", 4 << 20), b = cli.file("b.img", 4 << 20);
        List<String> uris = new ArrayList<>();
        for (Path f : List.of(a, b)) {
            var r = cli.run("add", "-t", "loop", "-f", f.toString(), "--backend", "emulated", "--export", "--json");
            CliHarness.ok(r);
            uris.add(r.json().get("export").get("uri").asText());
        }
        Path run2 = tmp.resolve("run2");
        try {
            var s = other(run2, "add", "-t", "stripe", "--url", uris.get(0), "--url", uris.get(1), "--chunk", "64k",
                    "--backend", "emulated", "--json");
            CliHarness.ok(s);
            assertEquals("stripe", s.json().get("target").asText());
            assertEquals(8 << 20, s.json().get("size").asLong());
            assertEquals(uris, List.of(s.json().get("files").get(0).asText(), s.json().get("files").get(1).asText()));
            var v = other(run2, "verify", "-n", "0");
            CliHarness.ok(v);
            assertTrue(v.out().startsWith("ok:"), v.out());
            // both lower devices of this daemon served the upper device's I/O
            for (int id = 0; id < 2; id++) {
                var st = cli.run("stats", "-n", "" + id, "--json");
                CliHarness.ok(st);
                assertTrue(st.json().get("total").get("ios").asLong() > 0, st.out());
            }
            var bad = other(run2, "add", "-t", "nbd", "--url", "nbd+unix:///nosuch?socket=" + cli.runDir.resolve("nbd-0.sock"),
                    "--backend", "emulated");
            assertEquals(ExitCode.ERROR, bad.code(), bad.err());
            assertTrue(bad.err().contains("no export 'nosuch'"), bad.err());
            assertEquals(1, bad.errLines().size(), bad.err());
        } finally {
            other(run2, "del", "-a");
        }
    }
}
