package dev.ublkctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Devices whose programs use a ring buffer (`map show` and `map dump` show its records) and tail calls
 * (the program array filled by the loader, the I/O handed on), through the CLI and the daemon.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MapFeaturesCliTest {
    static final Path TEST_OBJECTS = Path.of("..", "bpf-objects", "target", "classes", "bpf", "test").toAbsolutePath().normalize();
    static final Path OBJECT = TEST_OBJECTS.resolve("ring_null.o");

    @TempDir Path tmp;
    CliHarness cli;

    @BeforeEach
    void setUp() {
        boolean built = Files.isRegularFile(OBJECT) && Files.isRegularFile(TEST_OBJECTS.resolve("tail_null.o"));
        if (!built) System.out.println("SKIP map features CLI test: test objects in " + TEST_OBJECTS + " not built (bpf-objects needs clang)");
        assumeTrue(built, TEST_OBJECTS + ": test objects not built");
        cli = new CliHarness(tmp.resolve("run"));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (cli != null) cli.close();
    }

    @Test
    void mapDumpDecodesRingBufferRecords() throws Exception {
        CliHarness.ok(cli.run("add", "-t", "null", "--size", "16M", "--bpf", OBJECT.toString()));
        CliHarness.ok(cli.run("bench", "-n", "0", "--runtime", "0.3", "--iodepth", "2", "--bs", "8k", "--rw", "randwrite"));

        JsonNode maps = cli.run("map", "show", "-n", "0", "--json").json();
        JsonNode log = null;
        for (JsonNode m : maps) if (m.get("name").asText().equals("io_log")) log = m;
        assertNotNull(log, maps.toString());
        assertEquals("ringbuf", log.get("type").asText());
        assertEquals(16384, log.get("maxEntries").asInt());

        var dump = cli.run("map", "dump", "-n", "0", "io_log", "--json");
        CliHarness.ok(dump);
        JsonNode recs = dump.json();
        // 16 KiB holds 682 records of 16 + 8 bytes; a 0.3 s run makes more I/Os than that on any machine here
        assertTrue(recs.size() > 0, dump.out());
        long pos = -1;
        for (JsonNode r : recs) {
            assertTrue(r.get("key").asLong() > pos, "records in order of position");
            pos = r.get("key").asLong();
            JsonNode v = r.get("value");
            assertEquals(16, v.get("size").asInt());
            assertFalse(v.get("discarded").asBoolean());
            String hex = v.get("sample").asText();
            assertTrue(hex.startsWith("hex:01 00 00 00 10 00 00 00"), "op WRITE (1), 16 sectors: " + hex);
        }
        assertEquals(recs.size(), log.get("entries").asInt(), "map show counts the records waiting");

        var text = cli.run("map", "dump", "-n", "0", "io_log");
        CliHarness.ok(text);
        assertTrue(text.out().contains("VALUE.SAMPLE") && text.out().contains("hex:01 00 00 00"), text.out());
        CliHarness.ok(cli.run("del", "-a"));
    }

    @Test
    void tailCallsDispatchEachIoToItsProgram() throws Exception {
        CliHarness.ok(cli.run("add", "-t", "null", "--size", "16M", "--bpf", TEST_OBJECTS.resolve("tail_null.o").toString()));
        var bench = cli.run("bench", "-n", "0", "--runtime", "0.3", "--iodepth", "2", "--rw", "randrw", "--json");
        CliHarness.ok(bench);
        JsonNode b = bench.json();
        assertEquals(b.get("ios").asLong(), b.get("bpfHandled").asLong(), bench.out());

        var maps = cli.run("map", "show", "-n", "0", "--json").json();
        JsonNode table = null;
        for (JsonNode m : maps) if (m.get("name").asText().equals("by_op")) table = m;
        assertNotNull(table, maps.toString());
        assertEquals("prog_array", table.get("type").asText());
        assertEquals(2, table.get("entries").asInt(), "slots READ and WRITE filled from the object's .values");

        JsonNode bss = cli.run("map", "dump", "-n", "0", ".bss", "--json").json().get(0).get("value");
        long reads = bss.get("reads").asLong(), writes = bss.get("writes").asLong();
        assertTrue(reads > 0 && writes > 0, bss.toString());
        assertEquals(0, bss.get("others").asLong(), "no read or write fell through: " + bss);
        assertTrue(reads + writes >= b.get("ios").asLong(), bss + " " + b);
        CliHarness.ok(cli.run("del", "-a"));
    }
}
