package dev.ublkctl.ublk;

/**
 * What {@code ADD_DEV} negotiates ({@code struct ublksrv_ctrl_dev_info}, the parts ublkctl uses).
 *
 * @param devId         device id, or -1 to let the driver pick one
 * @param nrQueues      hardware queues (1..{@link #MAX_QUEUES})
 * @param queueDepth    tags per queue (1..{@link #MAX_DEPTH})
 * @param maxIoBufBytes largest request the driver hands to a queue; larger I/O is split
 * @param flags         {@code UBLK_F_*} feature flags asked for
 */
public record DeviceInfo(int devId, int nrQueues, int queueDepth, int maxIoBufBytes, long flags) {
    public static final int MAX_QUEUES = 32, MAX_DEPTH = 4096;
    /** kublk's default and the kernel's per-I/O buffer limit (UBLK_IO_BUF_BITS = 25 allows 32 MiB). */
    public static final int DEFAULT_MAX_IO = 1 << 20, MAX_IO_LIMIT = 1 << 25;

    public DeviceInfo {
        if (devId < -1) throw new IllegalArgumentException("device id must be >= 0 or -1 (auto), got " + devId);
        if (nrQueues < 1 || nrQueues > MAX_QUEUES)
            throw new IllegalArgumentException("queues must be 1.." + MAX_QUEUES + ", got " + nrQueues);
        if (queueDepth < 1 || queueDepth > MAX_DEPTH)
            throw new IllegalArgumentException("queue depth must be 1.." + MAX_DEPTH + ", got " + queueDepth);
        if (maxIoBufBytes < 4096 || maxIoBufBytes > MAX_IO_LIMIT || (maxIoBufBytes & 4095) != 0)
            throw new IllegalArgumentException("max I/O size must be a multiple of 4096 in 4 KiB..32 MiB, got " + maxIoBufBytes);
    }

    public DeviceInfo withDevId(int id) { return new DeviceInfo(id, nrQueues, queueDepth, maxIoBufBytes, flags); }
}
