package dev.ublkctl.cli;

import dev.ublkctl.cli.common.ExitCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** {@code ublkctl demo --once}: three devices on a real daemon, one frame, and nothing left behind. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DemoCommandTest {
    @TempDir Path tmp;
    CliHarness cli;
    String oldTmp;

    @BeforeEach
    void setUp() {
        cli = new CliHarness(tmp.resolve("run"));
        oldTmp = System.getProperty("java.io.tmpdir");
        System.setProperty("java.io.tmpdir", tmp.toString()); // the demo's backing files go here
    }

    @AfterEach
    void tearDown() throws Exception {
        System.setProperty("java.io.tmpdir", oldTmp);
        cli.close();
    }

    @Test
    void createsNullLoopStripeQcow2ShowsThemAndRemovesEverything() throws Exception {
        var r = cli.run("demo", "--once", "--seconds", "1", "--backend", "emulated");
        assertEquals(0, r.code(), r.out() + r.err());
        String out = r.out();
        assertTrue(out.contains("ublkctl top"), out);
        assertTrue(out.contains("4 devices"), out);
        for (String t : new String[]{"null", "loop", "stripe", "qcow2"}) {
            assertTrue(out.lines().anyMatch(l -> l.matches("\\s*\\d+ " + t + "\\s+emulated\\s+live.*")), t + " row in:\n" + out);
        }
        assertTrue(r.err().contains("demo: device 0: null"), r.err());
        assertTrue(r.err().contains("demo: device 3: qcow2 with BPF program qcow2_ops"), r.err());
        assertTrue(r.err().contains("demo: removed devices [0, 1, 2, 3]"), r.err());
        var list = cli.run("list", "--json");
        assertEquals(0, list.code(), list.err());
        assertEquals(0, list.json().size(), "no device left: " + list.out());
        try (Stream<Path> s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith("ublkctl-demo-")), "backing files removed");
        }
    }

    @Test
    void refusesToOpenTheMonitorWithoutATerminal() {
        var r = cli.run("demo");
        assertEquals(ExitCode.USAGE, r.code());
        assertTrue(r.err().contains("needs a terminal; use --once"), r.err());
        assertEquals(0, cli.run("list", "--json").json().size(), "nothing was created");
    }

    @Test
    void topOnceAndJsonWithoutADaemonSayWhy() {
        var r = cli.run("top", "--once", "-d", "0.1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("No ublkctl daemon is running"), r.out());
        var j = cli.run("top", "--json", "-d", "0.1");
        assertEquals("no_daemon", j.json().get("daemon").asText());
        assertEquals(ExitCode.USAGE, cli.run("top", "-d", "0").code());
        assertEquals(ExitCode.USAGE, cli.run("top").code(), "no terminal in tests");
    }
}
