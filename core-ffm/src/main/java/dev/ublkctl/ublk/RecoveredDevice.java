package dev.ublkctl.ublk;

/**
 * A device taken over from a server that died ({@link UblkDriver#beginRecovery}): what the driver
 * still knows about it, so a new server can serve it exactly as before.
 *
 * @param info   the device's info (queues, depth, max I/O, flags)
 * @param params its parameters (size, block sizes, discard)
 */
public record RecoveredDevice(DeviceInfo info, DeviceParams params) {}
