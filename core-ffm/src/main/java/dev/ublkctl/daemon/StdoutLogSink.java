package dev.ublkctl.daemon;

import dev.ublkctl.sys.Libc;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The spawned daemon's log: its standard output, which the launcher pointed at the log file.
 * Rotating renames that file to {@code NAME.1} and points descriptors 1 and 2 at a new one (mode
 * 0600), so whatever else writes there (the JVM itself on a crash) follows.
 */
final class StdoutLogSink implements DaemonLog.Sink {
    private final PrintStream out;
    private final Path file;   // null when stdout is not a regular file (a terminal, a pipe)
    private long size;

    private StdoutLogSink(PrintStream out, Path file, long size) {
        this.out = out;
        this.file = file;
        this.size = size;
    }

    static StdoutLogSink create() {
        Path file = null;
        long size = 0;
        try {
            Path p = Files.readSymbolicLink(Path.of("/proc/self/fd/1"));
            if (Files.isRegularFile(p)) {
                file = p;
                size = Files.size(p);
            }
        } catch (IOException | UnsupportedOperationException e) {
            // not a file we can rotate: write without a cap on rotation
        }
        return new StdoutLogSink(System.out, file, size);
    }

    @Override
    public void write(String line) {
        out.println(line);
        out.flush();
        size += line.getBytes(StandardCharsets.UTF_8).length + 1;
    }

    @Override public long size() { return size; }

    @Override
    public void rotate() {
        if (file == null) {
            size = 0;
            return;
        }
        try {
            Files.move(file, file.resolveSibling(file.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
            int fd = Libc.open(file.toString(), Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND | Libc.O_CLOEXEC, 0600);
            try {
                Libc.dup2(fd, 1);
                Libc.dup2(fd, 2);
            } finally {
                if (fd > 2) Libc.close(fd);
            }
            size = 0;
        } catch (IOException | RuntimeException e) {
            size = 0;   // keep writing where we are; try again after another cap's worth
            out.println("log rotation failed: " + e.getMessage());
        }
    }
}
