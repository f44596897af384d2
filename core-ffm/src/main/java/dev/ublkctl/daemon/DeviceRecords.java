package dev.ublkctl.daemon;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
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

    /** Writes a record atomically (temp file + rename), so readers never see half a file. */
    public void write(DeviceRecord r) {
        try {
            dir.create();
            Path target = dir.record(r.id());
            Path tmp = target.resolveSibling("." + r.id() + ".json.tmp");
            Json.mapper().writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), r);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
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
        return readFile(dir.record(id)).map(DeviceRecords::checked);
    }

    /** All records by id, each with its state checked: a dead daemon's devices say {@code dead}. */
    public List<DeviceRecord> readAll() {
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

    private static DeviceRecord checked(DeviceRecord r) {
        return DeviceRecord.LIVE.equals(r.state()) && !r.daemonAlive() ? r.withState(DeviceRecord.DEAD) : r;
    }

    private static Optional<DeviceRecord> readFile(Path p) {
        try {
            return Optional.of(Json.mapper().readValue(Files.readAllBytes(p), DeviceRecord.class));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            if (!Files.exists(p)) return Optional.empty();
            throw new UncheckedIOException("unreadable device record " + p + ": " + e.getMessage(), e);
        }
    }
}
