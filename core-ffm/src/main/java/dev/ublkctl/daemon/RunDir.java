package dev.ublkctl.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Where a daemon keeps its socket, lock, device records and log.
 * {@code $UBLKCTL_RUN_DIR} if set (tests isolate themselves with it), else {@code /run/ublkctl}
 * as root, else {@code $XDG_RUNTIME_DIR/ublkctl}, else {@code /tmp/ublkctl-UID}.
 */
public record RunDir(Path root, boolean isolated) {

    public static final String ENV = "UBLKCTL_RUN_DIR";
    /** Same as the env variable, for tests that run commands in-process. */
    public static final String PROPERTY = "ublkctl.run.dir";

    public static RunDir resolve() {
        String o = System.getProperty(PROPERTY);
        if (o == null || o.isBlank()) o = System.getenv(ENV);
        if (o != null && !o.isBlank()) return new RunDir(Path.of(o).toAbsolutePath(), true);
        long uid = currentUid();
        if (uid == 0) return new RunDir(Path.of("/run/ublkctl"), false);
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isBlank()) return new RunDir(Path.of(xdg, "ublkctl"), false);
        return new RunDir(Path.of(System.getProperty("java.io.tmpdir"), "ublkctl-" + uid), false);
    }

    /** The effective uid, read as the owner of /proc/self: cheaper than loading FFM for geteuid. */
    public static long currentUid() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name")) ? 0 : -1;
        }
    }

    public Path socket() { return root.resolve("ublkctl.sock"); }
    public Path lockFile() { return root.resolve("daemon.lock"); }
    public Path devicesDir() { return root.resolve("devices"); }
    public Path record(int id) { return devicesDir().resolve(id + ".json"); }

    /**
     * The daemon's log: in the run dir when {@code UBLKCTL_RUN_DIR} isolates it, else in the
     * user's state directory ({@code $XDG_STATE_HOME/ublkctl} or {@code ~/.local/state/ublkctl}).
     */
    public Path logFile() {
        if (isolated) return root.resolve("daemon.log");
        return stateDir().resolve("daemon.log");
    }

    /** {@code $XDG_STATE_HOME/ublkctl} or {@code ~/.local/state/ublkctl}: history and logs. */
    public static Path stateDir() {
        String xdg = System.getenv("XDG_STATE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg)
                : Path.of(System.getProperty("user.home"), ".local", "state");
        return base.resolve("ublkctl");
    }

    /** Creates the run dir (mode 0700) and its devices dir. */
    public void create() throws IOException {
        var mode = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
        if (!Files.isDirectory(root)) Files.createDirectories(root, mode);
        if (!Files.isDirectory(devicesDir())) Files.createDirectories(devicesDir(), mode);
    }
}
