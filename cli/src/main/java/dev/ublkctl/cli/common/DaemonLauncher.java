package dev.ublkctl.cli.common;

import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.DaemonUnavailableException;
import dev.ublkctl.daemon.RunDir;

import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Finds the run dir's daemon, or starts one detached and waits (bounded) until it answers. */
public final class DaemonLauncher {
    private DaemonLauncher() {}

    /** How long {@code add} waits for a daemon that another command is starting to answer. */
    public static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    /**
     * How long it waits for a daemon it started itself, while that process lives: a JVM on a
     * loaded or emulated machine (QEMU TCG) can take much longer than 20 s to start.
     */
    public static final Duration SPAWN_TIMEOUT = Duration.ofSeconds(120);
    /** After this long, say what is being waited for. */
    static final Duration NOTE_AFTER = Duration.ofSeconds(5);

    public static DaemonClient connectOrSpawn(Session session) {
        try {
            return session.connect();
        } catch (DaemonUnavailableException first) {
            RunDir dir = session.runDir();
            Process p = lockHeld(dir) ? null : spawn(dir);
            Duration limit = p == null ? START_TIMEOUT : SPAWN_TIMEOUT;
            long t0 = System.nanoTime();
            long deadline = t0 + limit.toNanos();
            boolean noted = false;
            while (System.nanoTime() < deadline) {
                if (!noted && System.nanoTime() - t0 > NOTE_AFTER.toNanos()) {
                    System.err.println("ublkctl: waiting for the daemon to start" + (p == null ? "" : " (pid " + p.pid() + ")")
                            + "; log: " + dir.logFile());
                    System.err.flush();
                    noted = true;
                }
                try {
                    return session.connect();
                } catch (DaemonUnavailableException e) {
                    if (p == null && !lockHeld(dir)) {
                        // the daemon that held the lock was exiting, and now has gone: start one
                        p = spawn(dir);
                        deadline = System.nanoTime() + SPAWN_TIMEOUT.toNanos();
                    }
                    if (p != null && !p.isAlive()) {
                        throw new CliException(ExitCode.DAEMON, "daemon exited at start (code " + p.exitValue()
                                + "): " + lastLine(dir.logFile()) + " (log: " + dir.logFile() + ")");
                    }
                    try { Thread.sleep(30); } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        throw new CliException(ExitCode.INTERRUPTED, "interrupted while starting the daemon");
                    }
                }
            }
            throw new CliException(ExitCode.DAEMON, "daemon did not answer within " + limit.toSeconds()
                    + " s (log: " + dir.logFile() + ")");
        }
    }

    /** True if a daemon holds the run dir's lock (it may still be starting). */
    static boolean lockHeld(RunDir dir) {
        if (!Files.exists(dir.lockFile())) return false;
        try (FileChannel ch = FileChannel.open(dir.lockFile(), StandardOpenOption.WRITE)) {
            FileLock l = ch.tryLock();
            if (l == null) return true;
            l.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true; // this JVM holds it: an in-process daemon (add --foreground, tests)
        } catch (IOException e) {
            return false;
        }
    }

    /** Environment variable with extra JVM options for a daemon that a command starts. */
    public static final String DAEMON_JAVA_OPTS = "UBLKCTL_DAEMON_JAVA_OPTS";

    /** The command that runs a daemon with this JVM's class path. */
    public static List<String> daemonCommand() {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        // extra JVM options for the daemon (heap size, GC, JIT), e.g. "-Xmx2g"
        String extra = System.getenv(DAEMON_JAVA_OPTS);
        if (extra != null && !extra.isBlank()) cmd.addAll(List.of(extra.trim().split("\\s+")));
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dev.ublkctl.daemon.Daemon");
        return cmd;
    }

    private static Process spawn(RunDir dir) {
        try {
            dir.create();
            Path log = dir.prepareLog();
            ProcessBuilder pb = new ProcessBuilder(daemonCommand())
                    .directory(dir.root().toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectErrorStream(true);
            pb.environment().put(RunDir.ENV, dir.root().toString());
            return pb.start();
        } catch (IOException e) {
            throw new CliException(ExitCode.DAEMON, "cannot start the daemon: " + e.getMessage());
        }
    }

    static String lastLine(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            for (int i = lines.size() - 1; i >= 0; i--) if (!lines.get(i).isBlank()) return lines.get(i).strip();
        } catch (IOException ignored) { }
        return "no log";
    }
}
