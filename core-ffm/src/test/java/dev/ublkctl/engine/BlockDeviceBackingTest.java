package dev.ublkctl.engine;

import dev.ublkctl.engine.load.Verifier;
import dev.ublkctl.engine.load.VerifyResult;
import dev.ublkctl.engine.load.VerifySpec;
import dev.ublkctl.target.TargetConfig;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A block device as a loop target's backing "file" (what {@code /dev/ublkbN} is to a device stacked on
 * a kernel-backend device): sized by BLKGETSIZE64, I/O through it lands on the storage beneath. On the
 * host the block device is a kernel loop device over a temp file; the guest suite does the same over
 * a real {@code /dev/ublkbN}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BlockDeviceBackingTest {
    @TempDir Path dir;

    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException(String.join(" ", cmd) + ": " + out);
        return out;
    }

    @Test
    void aLoopTargetOverABlockDevice() throws Exception {
        Assumptions.assumeTrue(dev.ublkctl.daemon.RunDir.currentUid() == 0, "needs root to set up a kernel loop device; skipped");
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/loop-control")), "no kernel loop driver (/dev/loop-control); skipped");
        Path img = EngineBasicTest.file(dir, "under.img", 8 << 20);
        String loopDev;
        try {
            loopDev = run("losetup", "--find", "--show", img.toString());
        } catch (java.io.IOException e) {
            Assumptions.abort("losetup not available: " + e.getMessage());
            return;
        }
        try {
            try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
                Device d = e.create(DeviceConfig.of(new TargetConfig.Loop(Path.of(loopDev))).withQueues(2));
                assertEquals(8 << 20, d.size(), "sized by BLKGETSIZE64, not by st_size (0 for a device node)");
                assertTrue(d.target().problem().isEmpty(), "a block device is not 'truncated': " + d.target().problem());
                d.start();
                VerifyResult v = Verifier.run(d, new VerifySpec(0, 0, 4096, 8, 3), null);
                assertTrue(v.ok(), () -> String.valueOf(v.firstMismatch()));
                MemorySegment m = a.allocate(4096, 4096);
                for (int i = 0; i < 4096; i++) m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) 0x5a);
                assertEquals(4096, d.block().write(1 << 20, m).join());
                assertEquals(0, d.block().flush().join());
            }
            run("blockdev", "--flushbufs", loopDev);
        } finally {
            run("losetup", "-d", loopDev);
        }
        byte[] disk = Files.readAllBytes(img);
        for (int i = 0; i < 4096; i++) assertEquals(0x5a, disk[(1 << 20) + i], "the write reached the file under the block device");
    }
}
