package dev.ublkctl.tui.metrics;

import dev.ublkctl.tui.model.DeviceSnapshot;

import java.util.List;

/**
 * One line of the devices table: the device as last seen, its presence and its rates.
 *
 * @param device   the device's last snapshot
 * @param presence live, new, gone or daemon lost
 * @param total    device totals (queue -1)
 * @param queues   per-queue rates, by queue index
 */
public record DeviceRow(DeviceSnapshot device, Presence presence, QueueRates total, List<QueueRates> queues) {
    public DeviceRow {
        queues = List.copyOf(queues);
    }

    public int id() { return device.id(); }

    /** The state word shown in the table: the daemon's state unless the device is gone or lost. */
    public String stateWord() {
        return switch (presence) {
            case LIVE -> device.state() == null ? "?" : device.state();
            case NEW -> "new";
            case GONE -> "gone";
            case DAEMON_LOST -> "lost";
        };
    }
}
