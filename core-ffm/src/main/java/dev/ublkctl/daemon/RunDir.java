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
    /** {@code HOST:PORT} where the daemon serves /metrics ({@code ublkctl metrics --listen}). */
    public Path metricsListenFile() { return root.resolve("metrics.listen"); }

    /**
     * The daemon's log: in the run dir when {@code UBLKCTL_RUN_DIR} isolates it, else in the
     * user's state directory ({@code $XDG_STATE_HOME/ublkctl} or {@code ~/.local/state/ublkctl}).
     */
    public Path logFile() {
        if (isolated) return root.resolve("daemon.log");
        return stateDir().resolve("daemon.log");
    }

    /**
     * Creates the log file's directory (0700) and the file (0600), or tightens an existing file to
     * 0600: requests and program output land in it.
     */
    public Path prepareLog() throws IOException {
        Path log = logFile();
        Path parent = log.getParent();
        if (!Files.isDirectory(parent))
            Files.createDirectories(parent, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        if (!Files.exists(log, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createFile(log, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // made meanwhile: tightened below
            }
        }
        Files.setPosixFilePermissions(log, PosixFilePermissions.fromString("rw-------"));
        return log;
    }

    /** {@code $XDG_STATE_HOME/ublkctl} or {@code ~/.local/state/ublkctl}: history and logs. */
    public static Path stateDir() {
        String xdg = System.getenv("XDG_STATE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg)
                : Path.of(System.getProperty("user.home"), ".local", "state");
        return base.resolve("ublkctl");
    }

    /**
     * Creates the run dir (mode 0700) and its devices dir, and refuses one another user could
     * control: not a directory (a symlink included), not owned by this user, or writable by group
     * or others. Whoever controls the directory controls the socket every command talks to (as
     * OpenSSH's StrictModes and systemd's RuntimeDirectory reason).
     */
    public void create() throws IOException {
        if (root.getParent() != null && !Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS))
            Files.createDirectories(root.getParent());
        createPrivate(root);
        createPrivate(devicesDir());
    }

    /** Makes {@code d} (mode 0700) unless it exists, then checks it like any existing one (someone may have made it first). */
    private static void createPrivate(Path d) throws IOException {
        if (!Files.exists(d, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createDirectory(d, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // made meanwhile: checked below
            }
        }
        checkOwned(d);
    }

    /** Checks the run dir, if it exists, without creating anything (what clients do before connecting). */
    public void checkIfExists() throws IOException {
        if (Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) checkOwned(root);
    }

    /** Thrown for a run dir that this user does not control. */
    public static final class UnsafeRunDirException extends IOException {
        private static final long serialVersionUID = 1L;
        public UnsafeRunDirException(String m) { super(m); }
    }

    private static void checkOwned(Path d) throws IOException {
        var a = Files.readAttributes(d, java.nio.file.attribute.PosixFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        if (!a.isDirectory())
            throw new UnsafeRunDirException("run dir " + d + " is not a directory" + (a.isSymbolicLink() ? " (a symbolic link)" : "")
                    + "; remove it or set " + ENV);
        long owner = ((Number) Files.getAttribute(d, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS)).longValue();
        long me = currentUid();
        if (owner != me)
            throw new UnsafeRunDirException("run dir " + d + " belongs to uid " + owner + ", not to this user (uid " + me
                    + "): refusing to use it; remove it or set " + ENV);
        var p = a.permissions();
        if (p.contains(java.nio.file.attribute.PosixFilePermission.GROUP_WRITE) || p.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE))
            throw new UnsafeRunDirException("run dir " + d + " is writable by others (mode " + PosixFilePermissions.toString(p)
                    + "): refusing to use it; chmod 700 it or set " + ENV);
    }
}
