package dev.ublkctl.cli;

import dev.ublkctl.cli.common.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code ublkctl top} end to end, as a person sees it: a real daemon process with a device under
 * load, the monitor running in a real terminal (tmux), keys sent, the screen captured.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TopTmuxTest {
    @TempDir Path tmp;
    CliHarness cli;
    String server;

    @BeforeEach
    void setUp() {
        cli = new CliHarness(tmp.resolve("run"));
        server = "ublkctl-top-test-" + ProcessHandle.current().pid();
    }

    @AfterEach
    void tearDown() throws Exception {
        Session.current().cancelAll();
        tmux("kill-server");
        cli.close();
    }

    /** Runs a tmux command on the test's own server; returns stdout. */
    String tmux(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("tmux", "-L", server));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
        return out;
    }

    String screen() throws Exception { return tmux("capture-pane", "-p", "-t", "top"); }

    /** Waits (bounded) until the screen satisfies the condition; returns that screen. */
    String await(String what, Predicate<String> ok) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(40).toNanos();
        String s = "";
        while (System.nanoTime() < end) {
            s = screen();
            if (ok.test(s)) return s;
            Thread.sleep(200);
        }
        throw new AssertionError("the screen never showed " + what + "; last capture:\n" + s);
    }

    /** The table line of a device, or "". */
    static String row(String screen, int id) {
        return screen.lines().filter(l -> l.strip().startsWith(id + " ")).findFirst().orElse("");
    }

    /** The IOPS cell of a table line (the columns at full width: id target backend state QxD size program IOPS). */
    static String iopsCell(String line) {
        String[] f = line.strip().split("\\s+");
        return f.length > 7 ? f[7] : "";
    }

    static boolean hasTmux() {
        try {
            Process p = new ProcessBuilder("tmux", "-V").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    @Test
    void topShowsLiveIoDrillsDownAndQuitsCleanly() throws Exception {
        if (!hasTmux()) {
            System.out.println("TopTmuxTest skipped: tmux is not installed (apt-get install tmux)");
            Assumptions.abort("tmux is not installed");
        }
        var add = cli.run("add", "-t", "null", "--size", "1G", "-q", "2", "-d", "32", "--bpf", "null", "--json");
        if (add.code() != 0) add = cli.run("add", "-t", "null", "--size", "1G", "-q", "2", "-d", "32", "--json"); // no eBPF VM in this build
        assertEquals(0, add.code(), add.err());
        String program = add.json().path("program").isNull() ? "-" : add.json().path("program").asText();

        // Live I/O from another connection for the whole test (cancelled in tearDown).
        var probe = cli.run("bench", "-n", "0", "--runtime", "0.2", "--json");
        if (probe.code() != 0) {
            System.out.println("TopTmuxTest skipped: the daemon cannot run I/O here: " + probe.err().strip());
            Assumptions.abort("no live I/O: " + probe.err().strip());
        }
        Thread load = Thread.ofPlatform().daemon(true).start(() -> cli.run("bench", "-n", "0", "--runtime", "100", "--iodepth", "4"));

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // The shell prints top's exit code on the restored screen, then waits to be killed.
        String cmd = "env UBLKCTL_RUN_DIR=" + cli.runDir + " " + java + " --enable-native-access=ALL-UNNAMED -cp '"
                + System.getProperty("java.class.path") + "' dev.ublkctl.cli.Main top -d 0.5; echo top-exit=$?; sleep 600";
        tmux("new-session", "-d", "-x", "140", "-y", "40", "-s", "top", cmd);

        String s = await("device 0 with I/O", sc -> {
            String r = row(sc, 0);
            String io = iopsCell(r);
            return !r.isEmpty() && !io.isEmpty() && !io.equals("-") && !io.equals("0");
        });
        assertTrue(s.contains("ublkctl top"), s);
        assertTrue(s.contains("daemon ok"), s);
        String r0 = row(s, 0);
        assertTrue(r0.contains("null") && r0.contains("emulated") && r0.contains("live") && r0.contains("2x32"), r0);
        assertTrue(r0.contains(program), r0);
        assertTrue(s.contains("q quit"), "key help in the footer");

        tmux("send-keys", "-t", "top", "Enter");
        s = await("the device's queues and maps", sc -> sc.contains("QUEUE") && sc.contains(" q0 ") && sc.contains(" q1 ") && sc.contains("MAPS"));
        assertTrue(s.contains("ublkb0"), s);
        assertTrue(s.contains("IOPS ") && s.contains("┤") && s.contains("now"), "braille charts with a y scale and time marks: " + s);

        tmux("send-keys", "-t", "top", "?");
        await("help", sc -> sc.contains("select a device"));
        tmux("send-keys", "-t", "top", "x");
        tmux("send-keys", "-t", "top", "Escape");
        await("the table again", sc -> sc.contains("PROGRAM") && !sc.contains("select a device"));

        tmux("send-keys", "-t", "top", "q");
        s = await("the monitor to exit", sc -> sc.contains("top-exit="));
        assertTrue(s.contains("top-exit=0"), s);
        assertFalse(s.contains("q quit"), "the terminal is restored (the monitor's screen is gone): " + s);
        load.interrupt();
    }
}
