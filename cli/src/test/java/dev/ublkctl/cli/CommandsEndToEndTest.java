package dev.ublkctl.cli;

import dev.ublkctl.cli.common.ExitCode;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
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

/** The commands end to end: a real daemon process, real engine devices, output parsed back. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CommandsEndToEndTest {
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



    @Test
    void addNullLoopStripeListStatsDeleteAll() throws Exception {
        assertTrue(CliHarness.daemons().isEmpty());
        var a = cli.run("add", "-t", "null", "--size", "1G", "-q", "2", "-d", "64", "--nthreads", "1", "--json");
        CliHarness.ok(a);
        JsonNode rec = a.json();
        assertEquals(0, rec.get("id").asInt());
        assertEquals("null", rec.get("target").asText());
        assertEquals("emulated", rec.get("backend").asText());
        assertEquals(1L << 30, rec.get("size").asLong());
        assertEquals(2, rec.get("queues").asInt());
        assertEquals(64, rec.get("depth").asInt());
        assertEquals(1, rec.get("threads").asInt(), "2 queues on 1 serving thread");
        assertEquals(1, CliHarness.daemons().size(), "add started one daemon");
        assertEquals(ExitCode.USAGE, cli.run("add", "-t", "null", "-q", "2", "--nthreads", "3").code());

        Path img = cli.file("disk.img", 32 << 20);
        var loop = cli.run("add", "-t", "loop", "-f", img.toString(), "--bs", "4k", "--json");
        CliHarness.ok(loop);
        assertEquals(1, loop.json().get("id").asInt());
        assertEquals(32L << 20, loop.json().get("size").asLong());
        assertEquals(4096, loop.json().get("blockSize").asInt());
        assertEquals(List.of(img.toAbsolutePath().toString()), List.of(loop.json().get("files").get(0).asText()));

        Path s1 = cli.file("s1.img", 8 << 20), s2 = cli.file("s2.img", 8 << 20);
        var stripe = cli.run("add", "-t", "stripe", "-f", s1.toString(), "-f", s2.toString(), "--chunk", "64k", "-n", "7", "--json");
        CliHarness.ok(stripe);
        assertEquals(7, stripe.json().get("id").asInt());
        assertEquals(16L << 20, stripe.json().get("size").asLong());
        assertEquals(1, CliHarness.daemons().size(), "later adds reuse the daemon");

        var list = cli.run("list", "--json");
        CliHarness.ok(list);
        JsonNode arr = list.json();
        assertEquals(3, arr.size());
        assertEquals(List.of(0, 1, 7), List.of(arr.get(0).get("id").asInt(), arr.get(1).get("id").asInt(), arr.get(2).get("id").asInt()));
        for (JsonNode d : arr) assertEquals("live", d.get("state").asText());

        var human = cli.run("list", "-v");
        CliHarness.ok(human);
        assertTrue(human.out().lines().findFirst().orElseThrow().startsWith("ID  STATE  TARGET"), human.out());
        assertTrue(human.out().contains("stripe"));

        var stats = cli.run("stats", "-n", "1", "--json");
        CliHarness.ok(stats);
        JsonNode st = stats.json();
        assertEquals(1, st.get("id").asInt());
        assertEquals(2, st.get("queues").size());
        assertTrue(st.get("total").has("ios"));
        assertTrue(st.get("total").get("latency").has("p99Ns"));
        var statsText = cli.run("stats", "-n", "1");
        CliHarness.ok(statsText);
        assertTrue(statsText.out().contains("total"), statsText.out());

        // prefix matching of verbs, like bpftool
        var abbreviated = cli.run("li", "-n", "7", "--json");
        CliHarness.ok(abbreviated);
        assertEquals("stripe", abbreviated.json().get("target").asText());

        List<ProcessHandle> ds = CliHarness.daemons();
        var del = cli.run("del", "-a", "--json");
        CliHarness.ok(del);
        assertEquals(3, del.json().size());
        assertTrue(CliHarness.waitGone(ds, Duration.ofSeconds(15)), "the daemon exits with its last device");
        var empty = cli.run("list", "--json");
        CliHarness.ok(empty);
        assertEquals(0, empty.json().size());
    }

    @Test
    void devicesWithBpfProgramsStatsMapsBenchVerifyAttachDetach() throws Exception {
        Path img = cli.file("loop.img", 16 << 20);
        Path s1 = cli.file("a.img", 4 << 20), s2 = cli.file("b.img", 4 << 20);
        CliHarness.ok(cli.run("add", "-t", "null", "--size", "64M", "--bpf", "null"));
        CliHarness.ok(cli.run("add", "-t", "loop", "-f", img.toString(), "--bpf", "loop"));
        var st = cli.run("add", "-t", "stripe", "-f", s1.toString(), "-f", s2.toString(), "--bpf", "stripe", "--json");
        CliHarness.ok(st);
        assertEquals("stripe_ops", st.json().get("program").asText(), st.out());
        JsonNode list = cli.run("list", "--json").json();
        assertEquals("null_ops", list.get(0).get("program").asText());
        assertEquals("bundled:loop", list.get(1).get("programPath").asText());

        // bench briefly through the program: every I/O handled in BPF
        var bench = cli.run("bench", "-n", "0", "--runtime", "0.5", "--iodepth", "4", "--json");
        CliHarness.ok(bench);
        JsonNode b = bench.json();
        assertTrue(b.get("iops").asDouble() > 0, bench.out());
        assertTrue(b.get("ios").asLong() > 0);
        assertEquals(b.get("ios").asLong(), b.get("bpfHandled").asLong(), bench.out());
        var benchText = cli.run("bench", "-n", "2", "--runtime", "0.3", "--rw", "randwrite");
        CliHarness.ok(benchText);
        assertTrue(benchText.out().contains("iops:"), benchText.out());

        JsonNode stats = cli.run("stats", "-n", "0", "--json").json();
        assertTrue(stats.get("total").get("bpfHandled").asLong() > 0, stats.toString());
        assertTrue(stats.get("total").get("progRuns").asLong() > 0);

        // verify the loop device's data path through its program
        var verify = cli.run("verify", "-n", "1", "--length", "4M", "--json");
        CliHarness.ok(verify);
        assertTrue(verify.json().get("ok").asBoolean(), verify.out());
        assertEquals(1024, verify.json().get("blocks").asLong());
        CliHarness.ok(cli.run("verify", "-n", "2", "--length", "2M"));

        // maps: listed, dumped with BTF field names, updated
        JsonNode maps = cli.run("map", "show", "-n", "0", "--json").json();
        assertTrue(maps.findValuesAsText("name").contains("qstats"), maps.toString());
        var dump = cli.run("map", "dump", "-n", "0", "qstats", "--json");
        CliHarness.ok(dump);
        JsonNode q0 = dump.json().get(0);
        assertEquals(0, q0.get("key").asInt());
        assertTrue(q0.get("value").get("queued").asLong() > 0, q0.toString());
        var upd = cli.run("map", "update", "-n", "0", "null_cfg", "0", "hex:" + "00".repeat(16), "--json");
        CliHarness.ok(upd);
        assertEquals("null_cfg", upd.json().get("map").asText());
        var badMap = cli.run("map", "dump", "-n", "0", "nosuchmap");
        assertEquals(ExitCode.NOT_FOUND, badMap.code(), badMap.err());

        // programs: show, dump, swap, detach
        JsonNode progs = cli.run("prog", "show", "--json").json();
        assertEquals(3, progs.size());
        for (JsonNode pr : progs) {   // the JIT by default, compiled when the program was loaded
            assertEquals("jit", pr.get("engine").asText(), pr.toString());
            assertTrue(pr.get("compile").asText().contains(": jit (compiled in "), pr.toString());
        }
        assertEquals("jit", cli.run("list", "-n", "0", "--json").json().get("engine").asText());
        JsonNode pd = cli.run("prog", "dump", "-n", "0", "--json").json();
        assertEquals("queue_io_cmd", pd.get(0).get("callback").asText());
        var att = cli.run("attach", "-n", "0", "null", "--ops", "null_redirect_ops", "--json");
        CliHarness.ok(att);
        assertEquals("null_redirect_ops", att.json().get("program").asText());
        assertEquals("null_redirect_ops", cli.run("list", "-n", "0", "--json").json().get("program").asText());
        var interp = cli.run("attach", "-n", "0", "null", "--engine", "interp", "--json");
        CliHarness.ok(interp);
        assertEquals("interp", interp.json().get("engine").asText(), "the engine goes through the daemon into the record");
        assertEquals("interp", cli.run("list", "-n", "0", "--json").json().get("engine").asText());
        JsonNode shown = cli.run("prog", "show", "-n", "0", "--json").json();
        assertEquals("interp", shown.get("engine").asText(), shown.toString());
        assertEquals(ExitCode.USAGE, cli.run("attach", "-n", "0", "null", "--engine", "turbo").code());
        var det = cli.run("detach", "-n", "0", "--json");
        CliHarness.ok(det);
        assertTrue(det.json().get("program").isNull());
        assertEquals(ExitCode.NOT_FOUND, cli.run("detach", "-n", "0").code());

        // one I/O through a program, in-process, timed
        var run = cli.run("prog", "run", "null", "--op", "read", "--sectors", "8", "--repeat", "20", "--json");
        CliHarness.ok(run);
        assertEquals(4096, run.json().get("result").asInt(), run.out());
        assertEquals(20, run.json().get("bpfHandled").asLong());
        assertTrue(run.json().get("nsPerRun").asLong() > 0);
        var split = cli.run("prog", "run", "null", "--ops", "null_split_ops", "--op", "write", "--sectors", "64", "--json");
        CliHarness.ok(split);
        assertTrue(split.json().get("splitParts").asLong() > 0, split.out());
        var refused = cli.run("prog", "run", "loop", "--op", "read");
        assertEquals(ExitCode.ERROR, refused.code());
        assertTrue(refused.err().startsWith("ublkctl prog run: "), refused.err());

        // dumps of object files need no daemon
        var objDump = cli.run("prog", "dump", "stripe", "--source");
        CliHarness.ok(objDump);
        assertTrue(objDump.out().contains("struct ublk_bpf_ops"), objDump.out());
        assertTrue(objDump.out().contains("exit"), objDump.out());

        CliHarness.ok(cli.run("del", "-a"));
    }

    @Test
    void aKilledDaemonIsReportedDeadNotHung() throws Exception {
        CliHarness.ok(cli.run("add", "-t", "null"));
        List<ProcessHandle> ds = CliHarness.daemons();
        assertEquals(1, ds.size());
        ds.getFirst().destroyForcibly();
        assertTrue(CliHarness.waitGone(ds, Duration.ofSeconds(10)));

        var list = cli.run("list", "--json");
        CliHarness.ok(list);
        assertEquals("dead", list.json().get(0).get("state").asText());
        var text = cli.run("list");
        assertTrue(text.out().contains("dead"), text.out());

        var stats = cli.run("stats", "-n", "0");
        assertEquals(ExitCode.DAEMON, stats.code(), stats.err());
        assertEquals(1, stats.errLines().size(), stats.err());

        var del = cli.run("del", "-n", "0");
        CliHarness.ok(del);
        assertTrue(del.out().contains("daemon had died"), del.out());
        assertEquals(0, cli.run("list", "--json").json().size());
    }

    @Test
    void badInputGivesOneLineAndADocumentedExitCode() throws Exception {
        record Case(int code, String[] args, String expect) { }
        Path missing = tmp.resolve("nope.img");
        List<Case> cases = List.of(
                new Case(ExitCode.USAGE, new String[]{"add", "-t", "raid5"}, "unknown target"),
                new Case(ExitCode.USAGE, new String[]{"add", "-t", "loop", "-f", missing.toString()}, "no such file"),
                new Case(ExitCode.USAGE, new String[]{"add", "-t", "null", "--size", "12Q"}, "bad size"),
                new Case(ExitCode.USAGE, new String[]{"add", "-t", "null", "--bs", "1000"}, "512, 1024, 2048 or 4096"),
                new Case(ExitCode.USAGE, new String[]{"add", "-t", "null", "-d", "5000"}, "depth must be 1..4096, got 5000"),
                new Case(ExitCode.USAGE, new String[]{"add", "-t", "null", "--backend", "cloud"}, "unknown backend 'cloud'"),
                new Case(ExitCode.USAGE, new String[]{"add", "-t", "stripe", "-f", "/etc/hostname", "-f", "/etc/hostname",
                        "--chunk", "1M"}, "stripe chunk must be a power of two in 4 KiB..512 KiB"),
                new Case(ExitCode.USAGE, new String[]{"add", "-t", "null", "--bpf", "nosuchprog"}, "unknown BPF program"),
                new Case(ExitCode.USAGE, new String[]{"add", "-t", "loop", "--bpf", missing + ".o", "-f", missing.toString()}, "no such"),
                new Case(ExitCode.USAGE, new String[]{"frobnicate"}, "Unmatched argument"),
                new Case(ExitCode.USAGE, new String[]{"d"}, "not unique"),
                new Case(ExitCode.DAEMON, new String[]{"stats", "-n", "42"}, "no daemon"),
                new Case(ExitCode.NOT_FOUND, new String[]{"list", "-n", "42"}, "no device 42"),
                new Case(ExitCode.NOT_FOUND, new String[]{"del", "-n", "42"}, "no device 42"),
                new Case(ExitCode.USAGE, new String[]{"top"}, "needs a terminal"));
        for (Case c : cases) {
            var r = cli.run(c.args());
            assertEquals(c.code(), r.code(), () -> String.join(" ", c.args()) + " -> " + r.err());
            assertTrue(r.err().contains(c.expect()), () -> String.join(" ", c.args()) + " -> " + r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        }
        // an object file without struct ublk_bpf_ops
        Path xdp = tmp.resolve("xdp.o");
        try (var in = getClass().getResourceAsStream("/bpf/test/xdp.o")) {
            Assumptions.assumeTrue(in != null, "bpf-objects test programs were not built");
            Files.write(xdp, in.readAllBytes());
        }
        var noOps = cli.run("add", "-t", "null", "--bpf", xdp.toString());
        assertEquals(ExitCode.USAGE, noOps.code(), noOps.err());
        assertEquals(1, noOps.errLines().size(), noOps.err());
        assertTrue(noOps.err().contains("has no struct ublk_bpf_ops"), noOps.err());
        // with a daemon running, a missing device is 'not found'
        CliHarness.ok(cli.run("add", "-t", "null"));
        var r = cli.run("stats", "-n", "42");
        assertEquals(ExitCode.NOT_FOUND, r.code(), r.err());
        assertEquals(List.of("ublkctl stats: no device 42"), r.errLines());
        // backends this machine or build cannot run: 'not supported here'
        var kbpf = cli.run("add", "-t", "null", "--backend", "kernel-bpf");
        assertEquals(ExitCode.UNSUPPORTED, kbpf.code(), kbpf.err());
        assertEquals(1, kbpf.errLines().size(), kbpf.err());
        if (!Files.exists(Path.of("/dev/ublk-control"))) {
            var k = cli.run("add", "-t", "null", "--backend", "kernel");
            assertEquals(ExitCode.UNSUPPORTED, k.code(), k.err());
            assertTrue(k.err().contains("no ublk driver"), k.err());
        }
        var dbg = cli.run("stats", "-n", "42", "--debug");
        assertTrue(dbg.err().contains("\tat "), "--debug shows the stack trace");
        CliHarness.ok(cli.run("del", "-a"));
    }

    @Test
    void featuresShowsTheChoiceAddMakes() throws Exception {
        var f = cli.run("features", "--json");
        CliHarness.ok(f);
        var j = f.json();
        assertEquals(List.of("kernel-bpf", "kernel", "emulated"),
                java.util.stream.StreamSupport.stream(j.get("backends").spliterator(), false).map(b -> b.get("name").asText()).toList());
        for (String check : List.of("root", "io_uring", "bpf(2)", "ublk driver", "ublk-bpf RFC")) {
            assertTrue(java.util.stream.StreamSupport.stream(j.get("checks").spliterator(), false)
                    .anyMatch(c -> c.get("name").asText().equals(check)), check + " in " + j);
        }
        // kernel-bpf is never offered by this build, whatever the kernel has: features and add agree
        assertFalse(j.get("backends").get(0).get("available").asBoolean(), j.toString());
        var add = cli.run("add", "-t", "null", "--json");
        CliHarness.ok(add);
        assertEquals(j.get("autoBackend").asText(), add.json().get("backend").asText(), "auto picks what features says");
        var text = cli.run("features");
        CliHarness.ok(text);
        assertTrue(text.out().contains("auto picks: " + j.get("autoBackend").asText()), text.out());
        CliHarness.ok(cli.run("del", "-a"));
    }

    @Test
    void realProcessExitCodesAndCompletionFastPath() throws Exception {
        var bad = cli.process("add", "-t", "raid5");
        assertEquals(ExitCode.USAGE, bad.code());
        assertEquals(1, bad.errLines().size(), bad.err());
        var version = cli.process("--version");
        assertEquals(0, version.code());
        assertTrue(version.out().startsWith("ublkctl "));

        // records of a daemon that is gone (pid of an exited process)
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        var store = new dev.ublkctl.daemon.DeviceRecords(new dev.ublkctl.daemon.RunDir(cli.runDir, true));
        for (int id : new int[]{3, 12}) {
            store.write(new dev.ublkctl.daemon.DeviceRecord(id, "live", dev.ublkctl.target.TargetType.LOOP,
                    dev.ublkctl.ublk.Backend.EMULATED, 2, 64, 8L << 20, 512,
                    List.of("/tmp/x" + id + ".img"), 0, "loop_ops", "bundled:loop", null, gone.pid(), 1, "2026-11-25T00:00:00Z", "loop:loop_ops", false));
        }
        var comp = cli.process("__complete", "devices");
        assertEquals(0, comp.code(), comp.err());
        assertEquals(List.of("3", "12"), comp.out().lines().toList());

        // Main answers plain 'list' without picocli: the same output as the full command
        for (String[] args : List.of(new String[]{"list"}, new String[]{"list", "-v"}, new String[]{"ls", "--json"},
                new String[]{"list", "-n", "12", "--pretty"}, new String[]{"list", "--no-color", "-n12"})) {
            var fast = cli.process(args);
            var full = cli.run(args);
            assertEquals(0, fast.code(), fast.err());
            assertEquals(full.out(), fast.out(), String.join(" ", args));
            assertEquals(full.err(), fast.err(), String.join(" ", args));
        }
        assertEquals("dead", cli.run("list", "-n", "3", "--json").json().get("state").asText());
        var missing = cli.process("list", "-n", "4");
        assertEquals(ExitCode.NOT_FOUND, missing.code());
        assertEquals(List.of("ublkctl list: no device 4"), missing.errLines());

        // recover: an emulated device died with its daemon; no record, nothing to recover
        var emu = cli.run("recover", "-n", "3");
        assertEquals(ExitCode.UNSUPPORTED, emu.code(), emu.err());
        assertTrue(emu.err().contains("ran on the emulated backend") && emu.err().contains("ublkctl del -n 3"), emu.err());
        var none = cli.run("recover", "-n", "4");
        assertEquals(ExitCode.NOT_FOUND, none.code(), none.err());
        assertTrue(none.err().contains("no record of device 4"), none.err());
        // del of a dead emulated device removes its record only
        var del = cli.run("del", "-n", "3", "--json");
        assertEquals(0, del.code(), del.err());
        assertEquals("removed record (daemon had died)", del.json().get(0).get("result").asText());
        assertEquals(ExitCode.NOT_FOUND, cli.process("list", "-n", "3").code());
    }
}
