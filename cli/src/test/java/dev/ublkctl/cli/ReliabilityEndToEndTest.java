package dev.ublkctl.cli;

import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.daemon.RunDir;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The reliability findings, each reproduced against a real daemon process: data goes only where it
 * belongs, a bad record or a stopped daemon is reported rather than hidden, names cannot drive the
 * terminal.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReliabilityEndToEndTest {
    @TempDir Path tmp;
    CliHarness cli;

    @BeforeEach
    void setUp() { cli = new CliHarness(tmp.resolve("run")); }

    @AfterEach
    void tearDown() throws Exception { cli.close(); }



    static boolean allZero(Path p) throws Exception {
        byte[] b = Files.readAllBytes(p);
        for (byte x : b) if (x != 0) return false;
        return true;
    }

    /** A regular file nobody may open for writing while it runs (ETXTBSY), root included. */
    static Path busyFile() throws Exception {
        return Path.of(ProcessHandle.current().info().command().orElseThrow()).toRealPath();
    }

    /**
     * Issue 11.1: fail, add A, fail, add B, write through A. Before the fix each failed add closed
     * fd 0, A's file got 0 and the second failure closed it, B's file got 0 too: A's writes landed
     * in B's file while verify said OK.
     */
    @Test
    void aFailedAddNeverSendsAnotherDevicesWritesElsewhere() throws Exception {
        Path a = cli.file("a.img", 4 << 20), b = cli.file("b.img", 4 << 20), s = cli.file("s.img", 4 << 20);
        Path busy = busyFile();
        var f1 = cli.run("add", "-t", "stripe", "-f", s.toString(), "-f", busy.toString());
        assertEquals(ExitCode.ERROR, f1.code(), f1.out() + f1.err());
        assertTrue(f1.err().contains("ETXTBSY") || f1.err().contains("busy"), f1.err());
        CliHarness.ok(cli.run("add", "-t", "loop", "-f", a.toString()));
        assertNotEquals(0, cli.run("add", "-t", "stripe", "-f", s.toString(), "-f", busy.toString()).code());
        CliHarness.ok(cli.run("add", "-t", "loop", "-f", b.toString()));
        CliHarness.ok(cli.run("verify", "-n", "0", "--length", "1m"));
        assertFalse(allZero(a), "device 0 wrote its own file");
        assertTrue(allZero(b), "device 1's file untouched by device 0's writes");
        assertTrue(allZero(s), "the failed stripe's file untouched");
        // the daemon holds /dev/null on its standard descriptors, so no backing file can get 0-2
        long pid = CliHarness.daemons().getFirst().pid();
        for (int fd = 0; fd <= 2; fd++) {
            String target = Files.readSymbolicLink(Path.of("/proc/" + pid + "/fd/" + fd)).toString();
            assertFalse(target.endsWith(".img"), "fd " + fd + " of the daemon is " + target);
        }
        assertEquals("/dev/null", Files.readSymbolicLink(Path.of("/proc/" + pid + "/fd/0")).toString());
        CliHarness.ok(cli.run("del", "-a"));
    }

    @Test
    void aStripeOverOneFileTwiceIsRefused() throws Exception {
        Path a = cli.file("a.img", 4 << 20);
        Path link = tmp.resolve("a-link.img");
        Files.createLink(link, a);
        var r = cli.run("add", "-t", "stripe", "-f", a.toString(), "-f", link.toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("same file"), r.err());
    }

    /** Issue 11.5: a backing file deleted or truncated under a live device shows in list. */
    @Test
    void listSaysWhenABackingFileIsDeletedOrTruncated() throws Exception {
        Path a = cli.file("a.img", 4 << 20);
        CliHarness.ok(cli.run("add", "-t", "loop", "-f", a.toString()));
        try (RandomAccessFile f = new RandomAccessFile(a.toFile(), "rw")) { f.setLength(4096); }
        String err = "";
        for (int i = 0; i < 100 && !err.contains("truncated"); i++) {   // the daemon looks once a second
            Thread.sleep(100);
            err = cli.run("list").err();
        }
        assertTrue(err.contains("device 0: backing file") && err.contains("truncated"), err);
        assertTrue(cli.run("list", "--json").out().contains("\"problem\":\"backing file"), "in the JSON too");
        Files.delete(a);
        for (int i = 0; i < 100 && !err.contains("deleted"); i++) {
            Thread.sleep(100);
            err = cli.run("list").err();
        }
        assertTrue(err.contains("was deleted"), err);
        CliHarness.ok(cli.run("del", "-a"));
    }

    /** Issue 11.4: an empty or truncated record is shown as broken and removable, and add still works. */
    @Test
    void aBrokenRecordIsListedAndDeletable() throws Exception {
        Path devices = tmp.resolve("run").resolve("devices");
        new RunDir(tmp.resolve("run"), true).create();
        Files.writeString(devices.resolve("0.json"), "");
        Files.writeString(devices.resolve("1.json"), "{\"id\":1,\"state\":");
        var l = cli.run("list");
        CliHarness.ok(l);
        assertTrue(l.out().contains("broken"), l.out());
        assertTrue(l.err().contains("device 0:") && l.err().contains("del -n 0"), l.err());
        var add = cli.run("add", "-t", "null", "--size", "16m", "--json");
        CliHarness.ok(add);
        assertEquals(2, add.json().get("id").asInt(), "the broken ids stay taken");
        var d = cli.run("del", "-n", "1");
        CliHarness.ok(d);
        assertTrue(d.out().contains("removed broken record"), d.out());
        var all = cli.run("del", "-a");
        CliHarness.ok(all);
        assertTrue(all.out().contains("device 0: removed broken record"), all.out());
        assertTrue(all.out().contains("device 2: deleted"), all.out());
        assertEquals("no devices", cli.run("list").out().strip());
    }

    /** Issue 11.5: del -a does not say "no devices" while a stopped daemon still has one. */
    @Test
    void delAllOnAStoppedDaemonSaysSo() throws Exception {
        CliHarness.ok(cli.run("add", "-t", "null", "--size", "16m"));
        ProcessHandle d = CliHarness.daemons().getFirst();
        new ProcessBuilder("kill", "-STOP", Long.toString(d.pid())).start().waitFor();
        // the signal is delivered asynchronously: the premise is a daemon that is stopped
        for (int i = 0; i < 500 && !dev.ublkctl.daemon.Daemons.stopped(d.pid()); i++) Thread.sleep(10);
        assertTrue(dev.ublkctl.daemon.Daemons.stopped(d.pid()), "the daemon is stopped");
        try {
            var r = cli.run("del", "-a");
            assertEquals(ExitCode.DAEMON, r.code(), r.out() + r.err());
            assertTrue(r.err().contains("stopped") && r.err().contains("kill -CONT"), r.err());
            assertFalse(r.out().contains("no devices"), r.out());
        } finally {
            new ProcessBuilder("kill", "-CONT", Long.toString(d.pid())).start().waitFor();
        }
        CliHarness.ok(cli.run("del", "-a"));
    }

    /** Issue 11.7: add right after the last delete (the daemon exiting) gets a daemon every time. */
    @Test
    void addAfterTheLastDeleteAlwaysFindsADaemon() throws Exception {
        for (int i = 0; i < 6; i++) {
            CliHarness.ok(cli.run("add", "-t", "null", "--size", "16m"));
            CliHarness.ok(cli.run("del", "-a"));
        }
        CliHarness.ok(cli.run("add", "-t", "null", "--size", "16m"));
        CliHarness.ok(cli.run("del", "-a"));
        assertTrue(CliHarness.waitGone(CliHarness.daemons(), Duration.ofSeconds(10)), "the last daemon exits");
    }

    /** Issue 11.2: names with control characters are shown escaped, never sent raw to the terminal. */
    @Test
    void controlCharactersInNamesAreEscaped() throws Exception {
        Path evil = cli.file("evil\u001b]0;pwned\u0007\nline.img", 4 << 20);
        CliHarness.ok(cli.run("add", "-t", "loop", "-f", evil.toString()));
        var l = cli.run("list", "-v");
        CliHarness.ok(l);
        assertFalse(l.out().contains("\u001b"), "no raw escape: " + l.out());
        assertFalse(l.out().contains("\u0007"), "no raw bell");
        assertTrue(l.out().contains("\\x1b]0;pwned\\x07\\nline.img"), l.out());
        assertEquals(2, l.out().strip().lines().count(), "one header and one row: " + l.out());
        CliHarness.ok(cli.run("del", "-a"));
    }

    /** Issue 11.2: a run dir made by someone else (world-writable) is refused by every command. */
    @Test
    void aRunDirOthersCanWriteIsRefused() throws Exception {
        Path run = tmp.resolve("run");
        Files.createDirectories(run);
        Files.setPosixFilePermissions(run, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        var add = cli.run("add", "-t", "null", "--size", "16m");
        assertNotEquals(0, add.code());
        assertTrue(add.err().contains("writable by others"), add.err());
        var list = cli.run("list");
        assertNotEquals(0, list.code());
        assertTrue(list.err().contains("refusing"), list.err());
        assertTrue(CliHarness.daemons().isEmpty(), "no daemon started in it");
    }

    /** Issue 11.6: --data-in of a huge file is refused in one line, not read (no OutOfMemoryError). */
    @Test
    void aHugePacketIsRefused() throws Exception {
        Path big = cli.file("big.bin", 3L << 30);   // sparse: takes no disk
        var r = cli.run("prog", "run", "anything.o", "--data-in", big.toString());
        assertEquals(ExitCode.USAGE, r.code(), r.err());
        assertTrue(r.err().contains("at most 16 MiB"), r.err());
        assertEquals(1, r.errLines().size(), r.err());
    }

    /** Issue 11.5: bench exits non-zero when I/O failed (as fio does), and says how many. */
    @Test
    void benchFailsWhenIoFails() throws Exception {
        Path a = cli.file("a.img", 4 << 20);
        CliHarness.ok(cli.run("add", "-t", "loop", "-f", a.toString(), "--bpf", "loop"));
        CliHarness.ok(cli.run("bench", "-n", "0", "--rw", "randread", "--runtime", "0.3"));
        // point the program's backing descriptor at -1: every aio, so every I/O, fails with EBADF
        CliHarness.ok(cli.run("map", "update", "-n", "0", "loop_files", "0", "hex:ffffffff00000000"));
        var r = cli.run("bench", "-n", "0", "--rw", "randread", "--runtime", "0.3");
        assertEquals(ExitCode.ERROR, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("I/Os failed"), r.err());
        CliHarness.ok(cli.run("del", "-a"));
    }

    /**
     * Issue 11.3: a program that faults on every I/O does not flood the log: thousands of faults,
     * a handful of lines and a count.
     */
    @Test
    void aProgramFaultingOnEveryIoDoesNotFloodTheLog() throws Exception {
        Path src = Path.of("..", "core-ffm", "src", "test", "resources", "bpf", "engine_faults.c").toAbsolutePath().normalize();
        Path obj = tmp.resolve("engine_faults.o");
        Process cc = new ProcessBuilder("clang", "-target", "bpf", "-mcpu=v3", "-O2", "-g",
                "-I" + Path.of("..", "bpf-objects", "include").toAbsolutePath().normalize(), "-c", src.toString(), "-o", obj.toString())
                .redirectErrorStream(true).start();
        String ccOut = new String(cc.getInputStream().readAllBytes());
        assertTrue(cc.waitFor(60, TimeUnit.SECONDS) && cc.exitValue() == 0, "clang: " + ccOut);
        CliHarness.ok(cli.run("add", "-t", "null", "--size", "64m", "--bpf", obj.toString(), "--ops", "null_deref_ops"));
        var b = cli.run("bench", "-n", "0", "--rw", "randread", "--runtime", "1", "--json");
        assertEquals(ExitCode.ERROR, b.code(), b.err());
        long failed = b.json().get("errors").asLong();
        assertTrue(failed > 100, "many faults: " + failed);
        Thread.sleep(1500);   // the count of a window is written when it ends
        List<String> log = Files.readAllLines(tmp.resolve("run").resolve("daemon.log"));
        long faultLines = log.stream().filter(l -> l.contains("null_deref")).count();
        assertTrue(faultLines <= 2 * dev.ublkctl.daemon.DaemonLog.BURST + 2,
                failed + " faults wrote " + faultLines + " lines:\n" + String.join("\n", log));
        CliHarness.ok(cli.run("del", "-a"));
    }

    /** The fault_inject target from the command line: the chosen share of I/O fails with the chosen errno. */
    @Test
    void faultInjectFromTheCommandLine() throws Exception {
        var add = cli.run("add", "-t", "fault_inject", "--fault", "delay=50us,every=4,errno=ENOSPC", "-q", "1", "--json");
        CliHarness.ok(add);
        assertEquals("fault_inject", add.json().get("target").asText());
        var v = cli.run("verify", "-n", "0", "--length", "64k");
        assertNotEquals(0, v.code(), "verify sees the injected failures: " + v.out() + v.err());
        var b = cli.run("bench", "-n", "0", "--rw", "randread", "--runtime", "0.3", "--iodepth", "1", "--json");
        assertEquals(ExitCode.ERROR, b.code(), b.err());
        long errors = b.json().get("errors").asLong(), ios = b.json().get("ios").asLong();
        assertTrue(errors > 0 && Math.abs(3 * errors - ios) <= 3, "one in four fails: " + errors + " errors, " + ios + " ok");
        var bad = cli.run("add", "-t", "fault_inject", "--fault", "every=x");
        assertEquals(ExitCode.USAGE, bad.code(), bad.err());
        assertTrue(bad.err().contains("not a number"), bad.err());
        assertEquals(ExitCode.USAGE, cli.run("add", "-t", "null", "--fault", "every=2").code(), "a spec is for fault_inject only");
        CliHarness.ok(cli.run("del", "-a"));
    }
}
