package dev.ublkctl.engine;

import dev.ublkctl.target.TargetConfig;
import dev.ublkctl.ublk.DeviceInfo;

/**
 * How to create a device.
 *
 * @param id               device id, -1 for the first free one
 * @param target           what the device serves
 * @param queues           hardware queues, 1..{@value #MAX_QUEUES} (one serving thread each)
 * @param depth            tags per queue, 1..{@value #MAX_DEPTH}
 * @param logicalBlockSize 512, 1024, 2048 or 4096
 * @param maxIoBytes       largest request a queue sees (bigger I/O is split), multiple of 4096
 * @param size             device size in bytes, 0 for the target's own size (must not exceed it)
 * @param recovery         ask the driver to keep the device for recovery if its server dies
 *                         (kernel: {@code UBLK_F_USER_RECOVERY}; ignored where the driver cannot)
 * @param threads          serving threads, 0 for one per queue (as a ublk server has); fewer than
 *                         {@code queues} makes each thread serve several queues (kublk's --nthreads)
 */
public record DeviceConfig(int id, TargetConfig target, int queues, int depth, int logicalBlockSize, int maxIoBytes,
                           long size, boolean recovery, int threads) {
    public static final int DEFAULT_QUEUES = 1, DEFAULT_DEPTH = 128, DEFAULT_LBS = 512;
    /** The limits a request is checked against (the command line and the RPC read them here). */
    public static final int MAX_QUEUES = DeviceInfo.MAX_QUEUES, MAX_DEPTH = DeviceInfo.MAX_DEPTH, MAX_ID = 0xFFFF;

    public DeviceConfig {
        if (target == null) throw new IllegalArgumentException("a device needs a target");
        if (id < -1 || id > MAX_ID)
            throw new IllegalArgumentException("device id must be 0.." + MAX_ID + " or -1 (the lowest free), got " + id);
        if (queues < 1 || queues > MAX_QUEUES)
            throw new IllegalArgumentException("queues must be 1.." + MAX_QUEUES + ", got " + queues);
        if (depth < 1 || depth > MAX_DEPTH)
            throw new IllegalArgumentException("depth must be 1.." + MAX_DEPTH + ", got " + depth);
        if (logicalBlockSize < 512 || logicalBlockSize > 4096 || Integer.bitCount(logicalBlockSize) != 1)
            throw new IllegalArgumentException("logical block size must be 512, 1024, 2048 or 4096, got " + logicalBlockSize);
        if (maxIoBytes < 4096 || maxIoBytes > DeviceInfo.MAX_IO_LIMIT || maxIoBytes % 4096 != 0)
            throw new IllegalArgumentException("max I/O size must be a multiple of 4096 in 4 KiB..32 MiB, got " + maxIoBytes);
        if (threads < 0 || threads > queues)
            throw new IllegalArgumentException("threads must be 0 (one per queue) or 1.." + queues + " (the queues), got " + threads);
        if (size < 0 || size % logicalBlockSize != 0)
            throw new IllegalArgumentException("size must be 0 (target's) or a multiple of the logical block size, got " + size);
    }

    public static DeviceConfig of(TargetConfig target) {
        return new DeviceConfig(-1, target, DEFAULT_QUEUES, DEFAULT_DEPTH, DEFAULT_LBS, DeviceInfo.DEFAULT_MAX_IO, 0, true, 0);
    }

    public DeviceConfig withId(int v) { return new DeviceConfig(v, target, queues, depth, logicalBlockSize, maxIoBytes, size, recovery, threads); }
    public DeviceConfig withQueues(int v) { return new DeviceConfig(id, target, v, depth, logicalBlockSize, maxIoBytes, size, recovery, threads); }
    public DeviceConfig withDepth(int v) { return new DeviceConfig(id, target, queues, v, logicalBlockSize, maxIoBytes, size, recovery, threads); }
    public DeviceConfig withLogicalBlockSize(int v) { return new DeviceConfig(id, target, queues, depth, v, maxIoBytes, size, recovery, threads); }
    public DeviceConfig withMaxIoBytes(int v) { return new DeviceConfig(id, target, queues, depth, logicalBlockSize, v, size, recovery, threads); }
    public DeviceConfig withSize(long v) { return new DeviceConfig(id, target, queues, depth, logicalBlockSize, maxIoBytes, v, recovery, threads); }
    public DeviceConfig withRecovery(boolean v) { return new DeviceConfig(id, target, queues, depth, logicalBlockSize, maxIoBytes, size, v, threads); }
    public DeviceConfig withThreads(int v) { return new DeviceConfig(id, target, queues, depth, logicalBlockSize, maxIoBytes, size, recovery, v); }
}
