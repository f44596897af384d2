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

/** A device whose program logs each I/O to a ring buffer: `map show` and `map dump` show the records. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RingBufferCliTest {
    static final Path OBJECT = Path.of("..", "bpf-objects", "target", "classes", "bpf", "test", "ring_null.o").toAbsolutePath().normalize();

    @TempDir Path tmp;
    CliHarness cli;

    @BeforeEach
    void setUp() {
        boolean built = Files.isRegularFile(OBJECT);
        if (!built) System.out.println("SKIP ring buffer CLI test: " + OBJECT + " not built (bpf-objects needs clang)");
        assumeTrue(built, OBJECT + " not built");
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
}
