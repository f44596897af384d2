package dev.ublkctl.cli;

import dev.ublkctl.cli.docs.Completions;
import dev.ublkctl.cli.docs.ManPages;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Man pages render with man(1); the bash completion script completes like the shell does. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DocsTest {
    @TempDir Path tmp;

    static String sh(Path dir, java.util.Map<String, String> env, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void manPagesForEveryVerbRenderWithoutWarnings() throws Exception {
        List<Path> pages = ManPages.write(tmp.resolve("man"));
        List<String> names = pages.stream().map(p -> p.getFileName().toString()).toList();
        assertTrue(names.containsAll(List.of("ublkctl.1", "ublkctl-add.1", "ublkctl-del.1", "ublkctl-list.1",
                "ublkctl-prog-dump.1", "ublkctl-map-update.1", "ublkctl-stats.1", "ublkctl-shell.1")), names.toString());
        assertFalse(names.contains("ublkctl-__complete.1"), "hidden verbs get no page");
        String add = Files.readString(tmp.resolve("man/ublkctl-add.1"));
        assertTrue(add.startsWith(".\\\"") && add.contains(".TH \"UBLKCTL-ADD\" \"1\""));
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/man")), "man(1) is not installed");
        String text = sh(tmp, java.util.Map.of("MANWIDTH", "100", "MAN_KEEP_FORMATTING", "0"),
                "sh", "-c", "man --warnings -l man/ublkctl-add.1 2>&1 | col -b");
        assertTrue(text.contains("ublkctl-add - Add a device and start serving it."), text);
        assertTrue(text.contains("EXIT STATUS"), text);
        assertTrue(text.contains("ublkctl add -t loop -f disk.img --bpf loop"), text);
        assertFalse(text.contains("warning"), text);
        String top = sh(tmp, java.util.Map.of("MANWIDTH", "100"), "sh", "-c", "man --warnings -l man/ublkctl.1 2>&1 | col -b");
        assertTrue(top.contains("ublkctl-bench(1)"), top);
        assertFalse(top.contains("warning"), top);
    }

    @Test
    void bashCompletionCompletesVerbsOptionsAndDeviceIds() throws Exception {
        Completions.main(new String[]{tmp.resolve("c").toString()});
        assertTrue(Files.readString(tmp.resolve("c/_ublkctl")).startsWith("#compdef ublkctl"));
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "bash is not installed");
        // a stand-in ublkctl on PATH answers __complete the way Main does
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Files.writeString(bin.resolve("ublkctl"), "#!/bin/sh\n[ \"$1 $2\" = \"__complete devices\" ] && printf '0\\n4\\n'\n"
                + "[ \"$1 $2\" = \"__complete targets\" ] && printf 'null\\nloop\\nstripe\\n'\nexit 0\n");
        bin.resolve("ublkctl").toFile().setExecutable(true);
        String script = """
                source c/ublkctl.bash
                t() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _ublkctl; echo "${COMPREPLY[*]}"; }
                t ublkctl a
                t ublkctl prog ""
                t ublkctl stats -n ""
                t ublkctl add -t ""
                t ublkctl map dump --j
                """;
        String out = sh(tmp, java.util.Map.of("PATH", bin + ":" + System.getenv("PATH")), "bash", "-c", script);
        List<String> lines = out.lines().toList();
        assertEquals("add attach", lines.get(0));
        assertTrue(lines.get(1).contains("show") && lines.get(1).contains("dump") && lines.get(1).contains("conformance"), out);
        assertEquals("0 4", lines.get(2));
        assertEquals("null loop stripe", lines.get(3));
        assertEquals("--json", lines.get(4));
    }
}
