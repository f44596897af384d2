package dev.ublkctl.nbd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ublkctl.engine.Device;
import dev.ublkctl.engine.DeviceConfig;
import dev.ublkctl.engine.Engine;
import dev.ublkctl.engine.stats.QueueStats;
import dev.ublkctl.target.TargetConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * An emulated device exported over NBD, read and written by the real NBD clients: libnbd's
 * nbdinfo and nbdcopy, qemu-io and qemu-img. Each skips, saying why, when its tool is missing.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdExportTest {
    @TempDir Path dir;
    private Engine engine;
    private Device dev;
    private Path file;
    private NbdServer server;
    private final CopyOnWriteArrayList<String> log = new CopyOnWriteArrayList<>();

    static Path randomFile(Path dir, String name, int size, long seed) throws IOException {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        Path f = dir.resolve(name);
        Files.write(f, b);
        return f;
    }

    @BeforeEach
    void start() throws Exception {
        file = randomFile(dir, "disk.img", 16 << 20, 1);
        engine = Engine.emulated();
        dev = engine.add(DeviceConfig.of(new TargetConfig.Loop(file)).withQueues(2));
        server = NbdServer.start(UnixDomainSocketAddress.of(dir.resolve("nbd.sock")),
                new NbdServer.Export("disk", dev.block(), false, "test disk"), log::add);
    }

    @AfterEach
    void stop() {
        if (server != null) server.close();
        if (engine != null) engine.close();
    }

    private String uri() { return server.uri().toString(); }

    @Test
    void socketIsPrivateAndTheUriIsQemuStyle() throws Exception {
        assertEquals("nbd+unix:///disk?socket=" + dir.resolve("nbd.sock"), uri());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("nbd.sock"))));
    }

    @Test
    void nbdinfoSeesSizeBlockSizesAndCapabilities() throws Exception {
        Tools.need("nbdinfo", "libnbd-bin");
        JsonNode j = new ObjectMapper().readTree(Tools.ok("nbdinfo", "--json", uri()));
        JsonNode e = j.get("exports").get(0);
        assertEquals("disk", e.get("export-name").asText());
        assertEquals(16 << 20, e.get("export-size").asLong());
        assertEquals(dev.logicalBlockSize(), e.get("block_size_minimum").asInt());
        assertEquals(4096, e.get("block_size_preferred").asInt());
        assertEquals(32 << 20, e.get("block_size_maximum").asInt());
        for (String cap : new String[]{"can_flush", "can_fua", "can_trim", "can_zero", "can_multi_conn"})
            assertTrue(e.get(cap).asBoolean(), cap + " in " + e);
        assertFalse(e.get("is_read_only").asBoolean());
        assertTrue(j.get("protocol").asText().contains("newstyle-fixed"), j.toString());
        // NBD_OPT_LIST
        String list = Tools.ok("nbdinfo", "--list", "nbd+unix:///?socket=" + dir.resolve("nbd.sock"));
        assertTrue(list.contains("export=\"disk\""), list);
    }

    @Test
    void nbdcopyBothWaysThroughTheDeviceCounters() throws Exception {
        Tools.need("nbdcopy", "libnbd-bin");
        Path src = randomFile(dir, "src.bin", 8 << 20, 2);
        long before = dev.stats().total().ios();
        Tools.ok("nbdcopy", src.toString(), uri());
        Path back = dir.resolve("back.bin");
        Tools.ok("nbdcopy", uri(), back.toString());
        byte[] b = Files.readAllBytes(back), s = Files.readAllBytes(src), f = Files.readAllBytes(file);
        assertEquals(16 << 20, b.length);
        assertArrayEquals(s, java.util.Arrays.copyOf(b, 8 << 20));
        assertArrayEquals(f, b, "what nbdcopy read is what the device's file holds");
        QueueStats q = dev.stats().total();
        assertTrue(q.ios() > before, "NBD I/O went through the device's queues");
        assertEquals(0, q.errorCount());
    }

    @Test
    void qemuIoWritesAPatternAndReadsItBackAndQemuImgComparesTheFile() throws Exception {
        Tools.need("qemu-io", "qemu-utils");
        String out = Tools.ok("qemu-io", "-f", "raw", "-c", "write -P 0xab 0 1M", "-c", "read -P 0xab 0 1M", uri());
        assertFalse(out.contains("Pattern verification failed"), out);
        byte[] f = Files.readAllBytes(file);
        for (int i = 0; i < 1 << 20; i++) if (f[i] != (byte) 0xab) fail("file byte " + i + " is " + f[i]);
        // a write with FUA and a zeroed range, as qemu-io sends them
        Tools.ok("qemu-io", "-f", "raw", "-c", "write -f -P 0x5c 2M 64k", "-c", "write -z 3M 128k", uri());
        f = Files.readAllBytes(file);
        assertEquals((byte) 0x5c, f[(2 << 20) + 100]);
        for (int i = 3 << 20; i < (3 << 20) + (128 << 10); i++) if (f[i] != 0) fail("zeroed byte " + i + " is " + f[i]);
        Tools.need("qemu-img", "qemu-utils");
        Tools.ok("qemu-img", "compare", "-f", "raw", "-F", "raw", file.toString(), uri());
        Files.write(dir.resolve("other.img"), new byte[16 << 20]);
        Tools.Result diff = Tools.run("qemu-img", "compare", "-f", "raw", "-F", "raw", dir.resolve("other.img").toString(), uri());
        assertEquals(1, diff.exit(), "qemu-img compare tells a different file apart: " + diff.out());
    }

    @Test
    void readOnlyExportRefusesWrites() throws Exception {
        Tools.need("qemu-io", "qemu-utils");
        server.close();
        server = NbdServer.start(UnixDomainSocketAddress.of(dir.resolve("ro.sock")),
                new NbdServer.Export("ro", dev.block(), true, null), log::add);
        byte[] before = Files.readAllBytes(file);
        Tools.Result w = Tools.run("qemu-io", "-f", "raw", "-c", "write -P 0x11 0 4k", uri());
        assertNotEquals(0, w.exit(), w.out());
        assertTrue(w.out().toLowerCase().contains("read-only") || w.out().contains("Permission denied"), w.out());
        assertArrayEquals(before, Files.readAllBytes(file));
        Tools.ok("qemu-io", "-r", "-f", "raw", "-c", "read 0 64k", uri());
    }
}
