package dev.ublkctl.cli;

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

    /** How long {@code add} waits for a new daemon to answer. */
    public static final Duration START_TIMEOUT = Duration.ofSeconds(20);

    public static DaemonClient connectOrSpawn(Session session) {
        try {
            return session.connect();
        } catch (DaemonUnavailableException first) {
            RunDir dir = session.runDir();
            Process p = lockHeld(dir) ? null : spawn(dir);
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                try {
                    return session.connect();
                } catch (DaemonUnavailableException e) {
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
            throw new CliException(ExitCode.DAEMON, "daemon did not answer within " + START_TIMEOUT.toSeconds()
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

    /** The command that runs a daemon with this JVM's classpath. */
    public static List<String> daemonCommand() {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dev.ublkctl.daemon.Daemon");
        return cmd;
    }

    private static Process spawn(RunDir dir) {
        try {
            dir.create();
            Path log = dir.logFile();
            Files.createDirectories(log.getParent());
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
