package dev.ublkctl.engine;
import dev.ublkctl.engine.load.Verifier;
import dev.ublkctl.engine.load.VerifyResult;
import dev.ublkctl.engine.load.VerifySpec;

import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.sys.Errno;
import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.BlockDevice;
import dev.ublkctl.ublk.BlockIoException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Backing files that go away or fill up: errors or service, never a hang or a lost acknowledgement. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BackingFileFaultTest {
    @TempDir Path dir;

    @Test
    void removedBackingFileKeepsServingThroughTheOpenDescriptor() throws Exception {
        Path f = EngineBasicTest.file(dir, "gone.img", 1 << 20);
        try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
            Device d = e.add(DeviceConfig.of(new TargetConfig.Loop(f)));
            Files.delete(f);
            VerifyResult v = Verifier.run(d, new VerifySpec(0, 0, 4096, 8, 9), null);
            assertTrue(v.ok(), () -> v.firstMismatch().toString());
        }
    }

    private static boolean run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    /** A loop device on a sparse file in a 256 KiB tmpfs: writes past the space fail with ENOSPC. */
    private void fullFilesystem(boolean bpf) throws Exception {
        Path mnt = Files.createDirectory(dir.resolve("small"));
        Assumptions.assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt.toString()),
                "cannot mount a small tmpfs (needs root): skipping the full-filesystem test");
        try {
            Path f = EngineBasicTest.file(mnt, "full.img", 4 << 20);
            try (Engine e = Engine.emulated(); Arena a = Arena.ofShared()) {
                Device d = e.create(DeviceConfig.of(new TargetConfig.Loop(f)).withMaxIoBytes(64 << 10));
                if (bpf) d.attach(UblkProgram.load(BpfObject.load(BpfFixtures.bundled("loop")), OpsRef.id(16)));
                d.start();
                BlockDevice b = d.block();
                MemorySegment chunk = a.allocate(64 << 10, 4096);
                chunk.fill((byte) 0x33);
                int ok = 0;
                BlockIoException failure = null;
                for (int i = 0; i < 64 && failure == null; i++) {
                    try {
                        assertEquals(64 << 10, b.write((long) i * (64 << 10), chunk).join());
                        ok++;
                    } catch (CompletionException x) {
                        failure = (BlockIoException) x.getCause();
                    }
                }
                assertNotNull(failure, "a 4 MiB write into 256 KiB of space must fail");
                assertEquals(Errno.ENOSPC, failure.errno(), failure.getMessage());
                // every acknowledged write is readable
                MemorySegment back = a.allocate(64 << 10, 4096);
                for (int i = 0; i < ok; i++) {
                    b.read((long) i * (64 << 10), back).join();
                    assertEquals(-1, back.mismatch(chunk), "acknowledged chunk " + i);
                }
                assertTrue(d.stats().total().errors().containsKey(Errno.ENOSPC));
            }
        } finally {
            run("umount", "-l", mnt.toString());
        }
    }

    @Test void fullFilesystemJavaLoop() throws Exception { fullFilesystem(false); }

    @Test void fullFilesystemBpfLoop() throws Exception { fullFilesystem(true); }
}
