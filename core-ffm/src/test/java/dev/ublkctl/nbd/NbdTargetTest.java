package dev.ublkctl.nbd;

import dev.ublkctl.engine.Device;
import dev.ublkctl.engine.DeviceConfig;
import dev.ublkctl.engine.Engine;
import dev.ublkctl.engine.load.Verifier;
import dev.ublkctl.engine.load.VerifyResult;
import dev.ublkctl.engine.load.VerifySpec;
import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.target.TargetType;
import dev.ublkctl.ublk.BlockIoException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The nbd target (ublkctl's own NBD client) against real servers — qemu-nbd on a raw and a qcow2
 * file, nbdkit's memory plugin, and ublkctl's own export (stacking through NBD) — with the server
 * killed and restarted under I/O.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdTargetTest {
    @TempDir Path dir;

    private static Device nbdDevice(Engine e, String uri) {
        return e.add(DeviceConfig.of(new TargetConfig.Nbd(TargetType.NBD, List.of(uri), Integer.MAX_VALUE)).withQueues(2));
    }

    private static void verifies(Device d, long gen) {
        VerifyResult v = Verifier.run(d, new VerifySpec(0, 0, 16384, 16, gen), null);
        assertTrue(v.ok(), () -> v.firstMismatch().toString());
    }

    @Test
    void qemuNbdRawFileVerifiesAndTheDataIsInTheFile() throws Exception {
        Tools.need("qemu-nbd", "qemu-utils");
        Path img = dir.resolve("raw.img");
        Files.write(img, new byte[8 << 20]);
        Path sock = dir.resolve("q.sock");
        Process p = Tools.serve(sock, "qemu-nbd", "-f", "raw", "-t", "-k", sock.toString(), "-x", "raw", img.toString());
        try (Engine e = Engine.emulated()) {
            Device d = nbdDevice(e, NbdUri.unix(sock, "raw").toString());
            assertEquals(8 << 20, d.size());
            assertEquals(TargetType.NBD, d.targetType());
            verifies(d, 3);
            try (Arena a = Arena.ofShared()) {
                MemorySegment m = a.allocate(65536, 4096);
                m.fill((byte) 0x6e);
                assertEquals(65536, d.block().write(1 << 20, m).join());
                assertEquals(0, d.block().flush().join());
            }
            byte[] f = Files.readAllBytes(img);
            for (int i = 1 << 20; i < (1 << 20) + 65536; i++) if (f[i] != 0x6e) fail("file byte " + i + " is " + f[i]);
        } finally {
            Tools.stop(p);
        }
    }

    @Test
    void qemuNbdQcow2Verifies() throws Exception {
        Tools.need("qemu-nbd", "qemu-utils");
        Tools.need("qemu-img", "qemu-utils");
        Path img = dir.resolve("d.qcow2");
        Tools.ok("qemu-img", "create", "-q", "-f", "qcow2", img.toString(), "8M");
        Path sock = dir.resolve("q2.sock");
        Process p = Tools.serve(sock, "qemu-nbd", "-f", "qcow2", "-t", "-k", sock.toString(), img.toString());
        try (Engine e = Engine.emulated()) {
            Device d = nbdDevice(e, "nbd+unix:///?socket=" + sock);
            verifies(d, 4);
        } finally {
            Tools.stop(p);
        }
        // the data went into the qcow2 image: qemu-img sees allocated clusters
        String info = Tools.ok("qemu-img", "info", "--output=json", img.toString());
        long used = new com.fasterxml.jackson.databind.ObjectMapper().readTree(info).get("actual-size").asLong();
        assertTrue(used > 4 << 20, "qcow2 holds the written data: " + info);
    }

    @Test
    void nbdkitMemoryUsesSeveralConnectionsAndVerifies() throws Exception {
        Tools.need("nbdkit", "nbdkit");
        Path sock = dir.resolve("k.sock");
        Process p = Tools.serve(sock, "nbdkit", "-f", "-U", sock.toString(), "memory", "16M");
        try (Engine e = Engine.emulated()) {
            String uri = "nbd+unix:///?socket=" + sock;
            try (NbdClient c = NbdClient.open(NbdUri.parse(uri), 4)) {
                assertTrue(c.multiConn(), "nbdkit memory allows multi-conn");
                assertEquals(4, c.connections());
            }
            Device d = nbdDevice(e, uri);
            verifies(d, 5);
            var q = d.stats().total();
            assertEquals(0, q.errorCount());
        } finally {
            Tools.stop(p);
        }
    }

    @Test
    void qemuNbdKilledAndRestartedDuringVerifyLosesNothing() throws Exception {
        Tools.need("qemu-nbd", "qemu-utils");
        Path img = dir.resolve("r.img");
        Files.write(img, new byte[16 << 20]);
        Path sock = dir.resolve("r.sock");
        String[] cmd = {"qemu-nbd", "-f", "raw", "-t", "-k", sock.toString(), img.toString()};
        Process p = Tools.serve(sock, cmd);
        try (Engine e = Engine.emulated()) {
            Device d = nbdDevice(e, "nbd+unix:///?socket=" + sock);
            AtomicReference<VerifyResult> result = new AtomicReference<>();
            Thread t = Thread.ofPlatform().start(() -> result.set(Verifier.run(d, new VerifySpec(0, 0, 4096, 16, 9), null)));
            while (d.stats().total().ios() < 500 && t.isAlive()) Thread.sleep(5);
            Tools.stop(p);
            // the client notices and reconnects: the target says so meanwhile
            while (d.target().problem().isEmpty() && t.isAlive()) Thread.sleep(5);
            Files.deleteIfExists(sock);
            p = Tools.serve(sock, cmd);
            t.join();
            assertTrue(result.get().ok(), () -> "in-flight I/O was resent after the reconnect: " + result.get().firstMismatch());
            verifies(d, 10);
            while (d.target().problem().isPresent()) Thread.sleep(5);
        } finally {
            Tools.stop(p);
        }
    }

    @Test
    void stripeOverTwoExportsOfAnotherEngine() throws Exception {
        // two loop devices of one engine exported over NBD, a stripe over both exports in another: stacking as separate daemons do it
        Path f0 = NbdExportTest.randomFile(dir, "a.img", 4 << 20, 11), f1 = NbdExportTest.randomFile(dir, "b.img", 4 << 20, 12);
        try (Engine lower = Engine.emulated(); Engine upper = Engine.emulated()) {
            Device l0 = lower.add(DeviceConfig.of(new TargetConfig.Loop(f0))), l1 = lower.add(DeviceConfig.of(new TargetConfig.Loop(f1)));
            try (NbdServer s0 = NbdServer.start(UnixDomainSocketAddress.of(dir.resolve("a.sock")), new NbdServer.Export("a", l0.block(), false, null), m -> { });
                 NbdServer s1 = NbdServer.start(UnixDomainSocketAddress.of(dir.resolve("b.sock")), new NbdServer.Export("b", l1.block(), false, null), m -> { })) {
                Device s = upper.add(DeviceConfig.of(new TargetConfig.Nbd(TargetType.STRIPE,
                        List.of(s0.uri().toString(), s1.uri().toString()), 65536)).withQueues(2));
                assertEquals(8 << 20, s.size());
                verifies(s, 21);
                byte[] d0 = Files.readAllBytes(f0), d1 = Files.readAllBytes(f1);
                try (Arena a = Arena.ofShared()) {
                    MemorySegment m = a.allocate(3 * 65536, 4096);
                    assertEquals(3 * 65536, s.block().read(0, m).join());
                    assertEquals(-1, m.asSlice(0, 65536).mismatch(MemorySegment.ofArray(d0).asSlice(0, 65536)));
                    assertEquals(-1, m.asSlice(65536, 65536).mismatch(MemorySegment.ofArray(d1).asSlice(0, 65536)));
                    assertEquals(-1, m.asSlice(2 * 65536, 65536).mismatch(MemorySegment.ofArray(d0).asSlice(65536, 65536)));
                }
                assertTrue(l0.stats().total().ios() > 0 && l1.stats().total().ios() > 0, "both lower devices served I/O");
            }
        }
    }

    @Test
    void unreachableOrRefusingServersGiveClearErrors() throws Exception {
        try (Engine e = Engine.emulated()) {
            NbdException x = assertThrows(NbdException.class, () -> nbdDevice(e, "nbd+unix:///x?socket=" + dir.resolve("none.sock")));
            assertTrue(x.getMessage().contains("cannot connect"), x.getMessage());
            Path img = dir.resolve("e.img");
            Files.write(img, new byte[1 << 20]);
            if (Tools.has("qemu-nbd")) {
                Path sock = dir.resolve("n.sock");
                Process p = Tools.serve(sock, "qemu-nbd", "-f", "raw", "-t", "-k", sock.toString(), "-x", "real", img.toString());
                try {
                    NbdException u = assertThrows(NbdException.class, () -> nbdDevice(e, NbdUri.unix(sock, "wrong").toString()));
                    assertTrue(u.getMessage().contains("no export 'wrong'"), u.getMessage());
                } finally {
                    Tools.stop(p);
                }
            }
        }
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> new TargetConfig.Nbd(TargetType.NBD, List.of("http://x/y"), Integer.MAX_VALUE));
        assertTrue(bad.getMessage().contains("scheme"), bad.getMessage());
    }

    @Test
    void requestsAfterTheClientGaveUpFailWithEio() throws Exception {
        Tools.need("qemu-nbd", "qemu-utils");
        Path img = dir.resolve("g.img");
        Files.write(img, new byte[1 << 20]);
        Path sock = dir.resolve("g.sock");
        Process p = Tools.serve(sock, "qemu-nbd", "-f", "raw", "-t", "-k", sock.toString(), img.toString());
        try (NbdClient c = NbdClient.open(NbdUri.unix(sock, ""), 1, 1); Arena a = Arena.ofShared()) {
            MemorySegment m = a.allocate(4096, 4096);
            assertEquals(4096, c.read(0, m).join());
            Tools.stop(p);
            Files.deleteIfExists(sock);
            CompletionException ce = assertThrows(CompletionException.class, () -> c.read(4096, m).join());
            assertEquals(dev.ublkctl.sys.Errno.EIO, ((BlockIoException) ce.getCause()).errno());
            assertTrue(c.problem().orElseThrow().contains("gave up"), c.problem().toString());
        } finally {
            Tools.stop(p);
        }
    }
}
