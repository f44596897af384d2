package dev.ublkctl.daemon;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A run dir another user could control is refused: whoever owns it owns the socket. */
class RunDirTest {
    @TempDir Path tmp;

    @Test
    void createdPrivate() throws IOException {
        RunDir d = new RunDir(tmp.resolve("run"), false);
        d.create();
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d.root())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d.devicesDir())));
        d.create();   // again: fine
    }

    @Test
    void worldWritableIsRefused() throws IOException {
        Path r = Files.createDirectory(tmp.resolve("open"));
        Files.setPosixFilePermissions(r, PosixFilePermissions.fromString("rwxrwxrwx"));
        RunDir d = new RunDir(r, false);
        var e = assertThrows(RunDir.UnsafeRunDirException.class, d::create);
        assertTrue(e.getMessage().contains("writable by others"), e.getMessage());
        assertThrows(RunDir.UnsafeRunDirException.class, d::checkIfExists);
        // clients refuse it too: no request goes to a socket in it
        Files.createFile(r.resolve("ublkctl.sock"));
        var c = assertThrows(java.io.UncheckedIOException.class, () -> DaemonClient.connect(d));
        assertTrue(c.getMessage().contains("refusing"), c.getMessage());
        assertThrows(java.io.UncheckedIOException.class, () -> new DeviceRecords(d).readAll());
    }

    @Test
    void aSymlinkIsRefused() throws IOException {
        Path real = Files.createDirectory(tmp.resolve("real"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        var e = assertThrows(RunDir.UnsafeRunDirException.class, () -> new RunDir(link, false).create());
        assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
    }

    @Test
    void anotherUsersDirectoryIsRefused() throws Exception {
        assumeTrue(RunDir.currentUid() == 0, "needs root to make a directory owned by another user; skipped");
        Path r = Files.createDirectory(tmp.resolve("theirs"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.setAttribute(r, "unix:uid", 65534);   // nobody
        var e = assertThrows(RunDir.UnsafeRunDirException.class, () -> new RunDir(r, false).create());
        assertTrue(e.getMessage().contains("belongs to uid 65534"), e.getMessage());
    }

    @Test
    void theLogIsPrivate() throws IOException {
        RunDir d = new RunDir(tmp.resolve("run"), true);
        d.create();
        Path log = d.prepareLog();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(log)));
        Files.setPosixFilePermissions(log, PosixFilePermissions.fromString("rw-r--r--"));
        d.prepareLog();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(log)), "tightened");
    }
}
