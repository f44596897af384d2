package dev.ublkctl.daemon;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.StandardOpenOption;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** The device records of one run dir ({@code devices/ID.json}), readable without the daemon. */
public final class DeviceRecords {
    private final RunDir dir;

    public DeviceRecords(RunDir dir) { this.dir = dir; }

    /**
     * Writes a record atomically and durably: temp file, fsync, rename, fsync of the directory. Readers
     * never see half a file, and after a crash the record is the old one or the new one.
     */
    public void write(DeviceRecord r) {
        try {
            dir.create();
            Path target = dir.record(r.id());
            Path tmp = target.resolveSibling("." + r.id() + ".json.tmp");
            byte[] json = Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(r);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                var buf = java.nio.ByteBuffer.wrap(json);
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            try (FileChannel d = FileChannel.open(dir.devicesDir(), StandardOpenOption.READ)) {
                d.force(true);
            } catch (IOException ignored) {
                // some file systems cannot fsync a directory; the rename itself is still atomic
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write device record " + r.id() + ": " + e.getMessage(), e);
        }
    }

    public void delete(int id) {
        try {
            Files.deleteIfExists(dir.record(id));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete device record " + id + ": " + e.getMessage(), e);
        }
    }

    /** One record with its state checked against the owning daemon, if the file exists. */
    public Optional<DeviceRecord> read(int id) {
        checkDir();
        return readFile(dir.record(id)).map(DeviceRecords::checked);
    }

    /** All records by id, each with its state checked: a dead daemon's devices say {@code dead}. */
    public List<DeviceRecord> readAll() {
        checkDir();
        List<DeviceRecord> out = new ArrayList<>();
        if (!Files.isDirectory(dir.devicesDir())) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir.devicesDir(), "[0-9]*.json")) {
            for (Path p : ds) readFile(p).map(DeviceRecords::checked).ifPresent(out::add);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir.devicesDir() + ": " + e.getMessage(), e);
        }
        out.sort(Comparator.comparingInt(DeviceRecord::id));
        return out;
    }

    /** Device ids only, straight from the file names: the fast path of shell completion. */
    public List<Integer> ids() {
        List<Integer> out = new ArrayList<>();
        if (!Files.isDirectory(dir.devicesDir())) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir.devicesDir(), "[0-9]*.json")) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                try { out.add(Integer.parseInt(n.substring(0, n.length() - 5))); } catch (NumberFormatException ignored) { }
            }
        } catch (IOException e) {
            return out;
        }
        out.sort(null);
        return out;
    }

    /** Records in a directory another user controls could say anything: refuse to read them. */
    private void checkDir() {
        try {
            dir.checkIfExists();
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    private static DeviceRecord checked(DeviceRecord r) {
        return DeviceRecord.LIVE.equals(r.state()) && !r.daemonAlive() ? r.withState(DeviceRecord.DEAD) : r;
    }

    /**
     * A record file as a record; one that cannot be read (empty, truncated, not JSON, another id
     * inside) comes back {@link DeviceRecord#BROKEN} with the reason, so one bad file never stops
     * {@code list}, {@code del} or a daemon's start.
     */
    private static Optional<DeviceRecord> readFile(Path p) {
        String n = p.getFileName().toString();
        int id;
        try {
            id = Integer.parseInt(n.substring(0, n.length() - ".json".length()));
        } catch (NumberFormatException e) {
            return Optional.empty();   // not a record name (the glob matched e.g. 1x.json)
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            if (!Files.exists(p)) return Optional.empty();
            return Optional.of(DeviceRecord.broken(id, "unreadable record " + p + ": " + e.getMessage()));
        }
        try {
            DeviceRecord r = Json.mapper().readValue(bytes, DeviceRecord.class);
            if (r == null) throw new IOException("a device record must be a JSON object");
            if (r.id() != id) return Optional.of(DeviceRecord.broken(id, "record " + p + " names device " + r.id()));
            if (r.state() == null || r.target() == null || r.backend() == null)
                return Optional.of(DeviceRecord.broken(id, "record " + p + " lacks state, target or backend"));
            return Optional.of(r);
        } catch (IOException | RuntimeException e) {
            String why = bytes.length == 0 ? "empty" : e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
            return Optional.of(DeviceRecord.broken(id, "unreadable record " + p + " (" + why + ")"));
        }
    }
}
