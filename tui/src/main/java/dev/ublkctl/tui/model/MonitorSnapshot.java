package dev.ublkctl.tui.model;

import java.util.List;
import java.util.Optional;

/**
 * Everything the monitor knows at one moment.
 *
 * @param takenNanos monotonic time of the snapshot ({@link System#nanoTime()} scale)
 * @param state      whether the daemon answered
 * @param message    what went wrong when it did not (or a note), else null
 * @param devices    devices by id
 */
public record MonitorSnapshot(long takenNanos, SourceState state, String message, List<DeviceSnapshot> devices) {
    public MonitorSnapshot {
        devices = devices == null ? List.of() : List.copyOf(devices);
    }

    public Optional<DeviceSnapshot> device(int id) {
        return devices.stream().filter(d -> d.id() == id).findFirst();
    }
}
