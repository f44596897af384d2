package dev.ublkctl.target;

import dev.ublkctl.target.qcow2.QemuTools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The qcow2 target sizes its program's mapping cache to the image: one entry per cluster, within bounds. */
class Qcow2TargetMapSizeTest {
    @TempDir Path tmp;

    @BeforeAll
    static void tools() { QemuTools.assumeInstalled(); }

    int entries(String size, int cluster) throws Exception {
        Path img = tmp.resolve(size + "-" + cluster + ".qcow2");
        QemuTools.ok("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=" + cluster, img.toString(), size);
        try (Qcow2Target t = Qcow2Target.open(img)) {
            Map<String, Integer> m = t.programMapSizes();
            return m.get("qcow2_map");
        }
    }

    @Test
    void oneEntryPerCluster() throws Exception {
        assertEquals(16384, entries("1G", 65536));
        assertEquals(2048, entries("4G", 2 << 20));
        assertEquals(16385, entries("1048580K", 65536)); // a last, partial cluster counts
    }

    @Test
    void boundedBothWays() throws Exception {
        assertEquals(Qcow2Target.MIN_MAP_ENTRIES, entries("16M", 65536));
        assertEquals(Qcow2Target.MAX_MAP_ENTRIES, entries("1T", 4096));
    }
}
