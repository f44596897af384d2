package dev.ublkctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ublkctl.cli.common.ExitCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Programs written after the RFC selftests' conventions (bpf-objects/src/kublk: their own
 * ublk_bpf.h beside them, kublk's maps and ids), given to the CLI as object files the way a user
 * gives the RFC's, on the emulated backend: what kublk's selftests run, and --map / prog trace
 * for a program whose maps the engine does not know.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KublkProgramsEndToEndTest {
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

    /** The built object, copied out as a user's file would be; skips (saying why) if it was not built. */
    private String object(String name) throws Exception {
        Path built = Path.of("..", "bpf-objects", "target", "classes", "bpf", "kublk", name + ".o").toAbsolutePath().normalize();
        if (!Files.isRegularFile(built)) {
            System.out.println("SKIP: " + built + " not built (mvn -pl bpf-objects generate-resources)");
            Assumptions.abort(built + " not built");
        }
        return Files.copy(built, tmp.resolve(name + ".o"), StandardCopyOption.REPLACE_EXISTING).toString();
    }

    private JsonNode total(int id) {
        var s = cli.run("stats", "-n", "" + id, "--json");
        CliHarness.ok(s);
        return s.json().get("total");
    }

    private void verify(int id, String length) {
        var v = cli.run("verify", "-n", "" + id, "--length", length, "--json");
        CliHarness.ok(v);
        assertTrue(v.json().get("ok").asBoolean(), v.out());
    }

    @Test
    void nullIdsZeroOneTwoWithTheBounce() throws Exception {
        String obj = object("kublk_null");
        CliHarness.ok(cli.run("add", "-t", "null", "--size", "64M", "--bpf", obj, "--ops", "0", "-n", "0"));
        CliHarness.ok(cli.run("add", "-t", "null", "--size", "64M", "--bpf", obj, "--ops", "1", "-n", "1"));
        var add2 = cli.run("add", "-t", "null", "--size", "64M", "--bpf", obj, "--ops", "2", "--bounce", "-n", "2", "--json");
        CliHarness.ok(add2);
        assertEquals("kublk_null_redirect_ops", add2.json().get("program").asText());
        for (int id = 0; id < 3; id++) CliHarness.ok(cli.run("bench", "-n", "" + id, "--runtime", "0.3", "--iodepth", "8", "--rw", "randrw"));

        JsonNode t0 = total(0);
        assertEquals(t0.get("ios").asLong(), t0.get("bpfHandled").asLong(), "id 0 completes everything in BPF");
        assertEquals(0, t0.get("redirected").asLong());

        JsonNode t1 = total(1);
        assertEquals(t1.get("ios").asLong(), t1.get("bpfHandled").asLong());
        assertTrue(t1.get("splitParts").asLong() >= t1.get("ios").asLong(), "id 1 splits every 4 KiB I/O at 512 bytes: " + t1);

        JsonNode t2 = total(2);
        long ios = t2.get("ios").asLong(), redirected = t2.get("redirected").asLong(), bpf = t2.get("bpfHandled").asLong();
        assertEquals(0, t2.get("errors").asLong(), t2.toString());
        assertTrue(redirected > 0, "even tags go to the server: " + t2);
        // of the redirected, the server serves one in four and bounces the rest back to BPF, which runs again
        long bounced = t2.get("progRuns").asLong() - ios;
        assertTrue(bounced > 0, "bounced I/Os run the program a second time: " + t2);
        assertEquals(ios, bpf + (redirected - bounced), "every I/O completes once, in BPF or in the server: " + t2);
        CliHarness.ok(cli.run("del", "-a"));
    }

    @Test
    void loopAndStripeWithTwoAndFourFilesVerifyAndMixedStripeReadsBackWhatItWrote() throws Exception {
        Path img = cli.file("loop.img", 8 << 20);
        var loop = cli.run("add", "-t", "loop", "-f", img.toString(), "--bpf", object("kublk_loop"), "-n", "0", "--json");
        CliHarness.ok(loop);
        verify(0, "4M");
        JsonNode t = total(0);
        assertEquals(t.get("ios").asLong(), t.get("bpfHandled").asLong(), "every I/O in bpf aio on fd_map's descriptor");
        assertEquals(t.get("aioSubmitted").asLong(), t.get("aioCompleted").asLong());
        // the descriptor the engine put in fd_map is the one list and prog show name
        JsonNode fds = loop.json().get("fds");
        assertEquals(1, fds.size(), loop.out());
        var fdMap = cli.run("map", "dump", "-n", "0", "fd_map", "--json");
        CliHarness.ok(fdMap);
        assertEquals(fds.get(0).asInt(), fdMap.json().get(0).get("value").asInt(), fdMap.out());
        assertEquals(fds.toString(), cli.run("prog", "show", "-n", "0", "--json").json().get("fds").toString());
        assertTrue(cli.run("list", "-v").out().contains("FDS"));

        String stripe = object("kublk_stripe");
        for (int files : new int[]{2, 4}) {
            int id = files;
            var args = new java.util.ArrayList<>(java.util.List.of("add", "-t", "stripe", "--chunk", "4k", "--bpf", stripe, "-n", "" + id));
            for (int i = 0; i < files; i++) args.addAll(java.util.List.of("-f", cli.file("s" + files + "-" + i, 2 << 20).toString()));
            CliHarness.ok(cli.run(args.toArray(String[]::new)));
            var cfg = cli.run("map", "dump", "-n", "" + id, "stripe_map", "--json");
            CliHarness.ok(cfg);
            assertEquals(files, cfg.json().get(0).get("value").get("nr_backfiles").asInt(), cfg.out());
            assertEquals(12, cfg.json().get(0).get("value").get("chunk_shift").asInt(), cfg.out());
            verify(id, "4M");
            JsonNode s = total(id);
            assertEquals(0, s.get("redirected").asLong());
            assertEquals(0, s.get("errors").asLong());
        }
        // mixed: the server writes, BPF reads; then BPF writes, the server reads (the object's mix map)
        CliHarness.ok(cli.run("map", "update", "-n", "2", "mix", "0", "2"));
        verify(2, "2M");
        long r1 = total(2).get("redirected").asLong();
        assertTrue(r1 > 0, "writes went to the server");
        CliHarness.ok(cli.run("map", "update", "-n", "2", "mix", "0", "1"));
        verify(2, "2M");
        assertTrue(total(2).get("redirected").asLong() > r1, "reads went to the server");
        assertEquals(0, total(2).get("errors").asLong());
        CliHarness.ok(cli.run("del", "-a"));
    }

    /**
     * A program whose map the engine does not fill for this target (kublk_loop on a one-file stripe
     * device): without --map every I/O fails and prog trace shows why; with --map it works.
     */
    @Test
    void mapOptionFillsWhatTheEngineDoesNotAndProgTraceShowsThePrintk() throws Exception {
        String loop = object("kublk_loop");
        Path f = cli.file("one.img", 4 << 20);
        CliHarness.ok(cli.run("add", "-t", "stripe", "-f", f.toString(), "--chunk", "4k", "--bpf", loop, "-n", "0"));
        var bad = cli.run("verify", "-n", "0", "--length", "64k", "--json");
        assertNotEquals(0, bad.code(), bad.out());
        var trace = cli.run("prog", "trace", "-n", "0", "--no-follow");
        CliHarness.ok(trace);
        assertTrue(trace.out().contains("no fd for device 0 in fd_map"), trace.out());
        var traceJson = cli.run("prog", "trace", "-n", "0", "--no-follow", "--json");
        CliHarness.ok(traceJson);
        assertTrue(traceJson.json().get("next").asLong() > 0);
        assertEquals("kublk_loop_ops", traceJson.json().get("program").asText());

        // the same program again, attached with the entry it needs: the device's own descriptor
        var att = cli.run("attach", "-n", "0", loop, "--map", "fd_map", "@dev=@fd0", "--json");
        CliHarness.ok(att);
        verify(0, "2M");
        assertEquals(att.json().get("fds").get(0).asInt(),
                cli.run("map", "dump", "-n", "0", "fd_map", "--json").json().get(0).get("value").asInt());

        // at add time too, and with a value typed by BTF (JSON): without this entry kublk_stripe's
        // attach_dev refuses the device (-EINVAL), so it shows the entry is there before attach_dev runs
        Path g = cli.file("two.img", 4 << 20);
        CliHarness.ok(cli.run("add", "-t", "stripe", "-f", g.toString(), "--chunk", "4k", "--bpf", loop, "-n", "1",
                "--map", "fd_map", "@dev=@fd0"));
        verify(1, "2M");
        CliHarness.ok(cli.run("add", "-t", "null", "--size", "16M", "--bpf", object("kublk_stripe"), "-n", "2",
                "--map", "stripe_map", "@dev={\"chunk_shift\":16,\"nr_backfiles\":2,\"fds\":[3,4]}", "--map", "io_map", "0x20001={\"ref\":1,\"res\":-5}"));
        var dump = cli.run("map", "dump", "-n", "2", "stripe_map", "--json");
        CliHarness.ok(dump);
        assertEquals("{\"chunk_shift\":16,\"nr_backfiles\":2,\"fds\":[3,4,0,0]}", dump.json().get(0).get("value").toString());
        assertEquals(-5, cli.run("map", "dump", "-n", "2", "io_map", "--json").json().get(0).get("value").get("res").asInt());

        // mistakes: one line, a documented exit code
        var noMap = cli.run("add", "-t", "null", "--bpf", loop, "--map", "nope", "1=2");
        assertEquals(ExitCode.USAGE, noMap.code(), noMap.err());
        assertTrue(noMap.err().contains("has no such map (maps: fd_map"), noMap.err());
        assertEquals(1, noMap.errLines().size(), noMap.err());
        var badValue = cli.run("add", "-t", "null", "--bpf", loop, "--map", "fd_map", "0={\"x\":1}");
        assertEquals(ExitCode.USAGE, badValue.code(), badValue.err());
        assertTrue(badValue.err().contains("expected an integer"), badValue.err());
        var noEntry = cli.run("add", "-t", "null", "--bpf", loop, "--map", "fd_map");
        assertEquals(ExitCode.USAGE, noEntry.code(), noEntry.err());
        var noProg = cli.run("add", "-t", "null", "--bounce");
        assertEquals(ExitCode.USAGE, noProg.code(), noProg.err());
        assertTrue(noProg.err().contains("give the program too"), noProg.err());
        CliHarness.ok(cli.run("del", "-a"));
    }
}
