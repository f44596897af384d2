package dev.ublkctl.cli;

import dev.ublkctl.cli.common.Session;
import dev.ublkctl.cli.shell.Shell;
import dev.ublkctl.cli.shell.SpecCompleter;
import org.jline.reader.Candidate;
import org.jline.reader.LineReader;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The shell: completion from the picocli model, a scripted session, and a real terminal under tmux. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ShellTest {
    @TempDir Path tmp;
    CliHarness cli;

    @BeforeEach
    void setUp() {
        cli = new CliHarness(tmp.resolve("run"));
    }

    @AfterEach
    void tearDown() throws Exception {
        cli.close();
    }

    Terminal dumb(String input, ByteArrayOutputStream out) throws Exception {
        // A plain dumb terminal on the streams (the builder would put a pty in between).
        return new org.jline.terminal.impl.DumbTerminal("test", "dumb",
                new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)), out, StandardCharsets.UTF_8);
    }

    List<String> complete(LineReader reader, String line) {
        DefaultParser p = new DefaultParser();
        List<Candidate> c = new ArrayList<>();
        ((org.jline.reader.impl.LineReaderImpl) reader).getCompleter().complete(reader, p.parse(line, line.length(), org.jline.reader.Parser.ParseContext.COMPLETE), c);
        return c.stream().map(Candidate::value).toList();
    }

    @Test
    void completesVerbsOptionsDeviceIdsValuesAndFiles() throws Exception {
        Files.createDirectories(cli.runDir.resolve("devices"));
        Path img = Files.createFile(tmp.resolve("disk-one.img"));
        // two devices in the records (written by a real daemon)
        CliHarness.Result a = cli.run("add", "-t", "null");
        assertEquals(0, a.code(), a.err());
        assertEquals(0, cli.run("add", "-t", "null", "-n", "5", "--bpf", "null").code());

        try (Terminal t = dumb("", new ByteArrayOutputStream())) {
            LineReader r = new Shell(Cli.TREE, t, Session.current(), tmp.resolve("hist")).reader();
            List<String> verbs = complete(r, "");
            assertTrue(verbs.containsAll(List.of("add", "del", "list", "stats", "prog", "map", "help", "exit")), verbs.toString());
            assertFalse(verbs.contains("__complete"), "hidden verbs stay hidden");
            assertTrue(complete(r, "pr").contains("prog"));
            assertTrue(complete(r, "prog ").containsAll(List.of("show", "dump", "conformance")));
            assertTrue(complete(r, "map ").containsAll(List.of("show", "dump", "update")));
            List<String> addOpts = complete(r, "add -");
            assertTrue(addOpts.containsAll(List.of("-t", "--type", "--bpf", "--backend", "--json", "--help")), addOpts.toString());
            assertEquals(List.of("0", "5"), complete(r, "stats -n "));
            assertEquals(List.of("0", "5"), complete(r, "st -n "), "abbreviated verbs complete too");
            assertTrue(complete(r, "add -t ").containsAll(List.of("null", "loop", "stripe")));
            assertTrue(complete(r, "add -t null --bpf ").containsAll(List.of("null", "loop", "stripe")));
            assertTrue(complete(r, "bench -n 0 --rw ").contains("randread"));
            List<String> maps = complete(r, "map dump -n 5 ");
            assertTrue(maps.containsAll(List.of("qstats", "null_cfg")), "map names from the daemon: " + maps);
            assertEquals(List.of(), complete(r, "map dump -n 0 "), "device 0 has no program, so no maps");
            List<String> files = complete(r, "add -t loop -f " + tmp + "/disk-");
            assertTrue(files.stream().anyMatch(f -> f.endsWith("disk-one.img")), files.toString());
            assertTrue(img.toFile().exists());
        }
        assertEquals(0, cli.run("del", "-a").code());
    }

    @Test
    void scriptedSessionRunsCommandsKeepsGoingAfterErrorsAndSavesHistory() throws Exception {
        var out = new ByteArrayOutputStream();
        Path hist = tmp.resolve("state/ublkctl/history");
        String script = "list --json\nfrobnicate\nhelp map\nadd -t null --json\nlist\ndel -a\nexit\n";
        int code;
        try (Terminal t = dumb(script, out)) {
            code = new Shell(Cli.TREE, t, Session.current(), hist).run();
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, text); // the last command (del -a) succeeded
        assertTrue(text.contains("[]"), text);                                // list --json on no devices
        assertTrue(text.contains("Unmatched argument"), text);               // the error, and the shell went on
        assertTrue(text.contains("Usage: ublkctl map"), text);               // help inline
        assertTrue(text.contains("\"target\":\"null\""), text);              // add --json
        assertTrue(text.contains("device 0: deleted"), text);
        assertTrue(Files.readString(hist).contains("add -t null --json"), "history saved");
    }

    /** A real pseudo-terminal: TAB completion and Ctrl-C cancelling a running command. */
    @Test
    void realTerminalUnderTmux() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/tmux")), "tmux is not installed");
        assertEquals(0, cli.run("add", "-t", "null").code());
        String session = "ublkctl-test-" + ProcessHandle.current().pid();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cmd = "env UBLKCTL_RUN_DIR=" + cli.runDir + " XDG_STATE_HOME=" + tmp.resolve("state") + " NO_COLOR=1 "
                + java + " --enable-native-access=ALL-UNNAMED -cp " + System.getProperty("java.class.path")
                + " dev.ublkctl.cli.Main shell";
        Files.writeString(tmp.resolve("shell.sh"), "#!/bin/sh\nexec " + cmd + "\n");
        tmp.resolve("shell.sh").toFile().setExecutable(true);
        run("tmux", "new-session", "-d", "-s", session, "-x", "150", "-y", "40", tmp.resolve("shell.sh").toString());
        try {
            waitFor(session, "ublkctl>");
            run("tmux", "send-keys", "-t", session, "stat", "Tab");
            waitFor(session, "ublkctl> stats");
            run("tmux", "send-keys", "-t", session, "--", "-n ", "Tab");   // completing "stats" added a space
            waitFor(session, "stats -n 0");
            run("tmux", "send-keys", "-t", session, "--", "--watch 1", "Enter");
            waitFor(session, "--- device 0");
            run("tmux", "send-keys", "-t", session, "C-c");
            // the shell is still there and reads the next command once the cancelled one ended
            run("tmux", "send-keys", "-t", session, "list", "Enter");
            waitFor(session, "ID  STATE");
            run("tmux", "send-keys", "-t", session, "exit", "Enter");
        } finally {
            new ProcessBuilder("tmux", "kill-session", "-t", session).start().waitFor(10, TimeUnit.SECONDS);
        }
        assertEquals(0, cli.run("del", "-a").code());
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), new String(p.getInputStream().readAllBytes()));
    }

    private static void waitFor(String session, String text) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        String screen = "";
        while (System.nanoTime() < end) {
            Process p = new ProcessBuilder("tmux", "capture-pane", "-p", "-t", session).redirectErrorStream(true).start();
            screen = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(10, TimeUnit.SECONDS);
            String trimmed = screen.lines().map(String::stripTrailing).reduce("", (a, b) -> a + b + "\n");
            if (trimmed.contains(text)) return;
            Thread.sleep(100);
        }
        fail("'" + text + "' did not appear; screen:\n" + screen);
    }
}
