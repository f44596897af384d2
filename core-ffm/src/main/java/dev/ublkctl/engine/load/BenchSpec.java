package dev.ublkctl.engine.load;

import java.time.Duration;

/**
 * A workload, fio style.
 *
 * @param pattern     read, write, randread, randwrite, randrw
 * @param blockSize   bytes per I/O (multiple of the device's logical block size)
 * @param ioDepth     I/Os each job keeps in flight
 * @param numJobs     jobs (threads); job j submits to queue j % queues
 * @param runtime     how long to run (null or zero: until ioCount)
 * @param ioCount     total I/Os to issue over all jobs (0: until runtime)
 * @param readPercent share of reads for randrw (0..100)
 * @param offset      start of the region (bytes)
 * @param length      length of the region (0: to the end of the device)
 * @param seed        random seed (offsets, read/write mix)
 */
public record BenchSpec(Pattern pattern, int blockSize, int ioDepth, int numJobs, Duration runtime, long ioCount,
                        int readPercent, long offset, long length, long seed) {
    /** The limits a request is checked against (the command line and the RPC read them here). */
    public static final int MAX_IODEPTH = 4096, MAX_JOBS = 64;

    public BenchSpec {
        if (pattern == null) throw new IllegalArgumentException("pattern missing");
        if (blockSize <= 0 || blockSize % 512 != 0)
            throw new IllegalArgumentException("block size must be a positive multiple of 512, got " + blockSize);
        if (ioDepth < 1 || ioDepth > MAX_IODEPTH) throw new IllegalArgumentException("iodepth must be 1.." + MAX_IODEPTH + ", got " + ioDepth);
        if (numJobs < 1 || numJobs > MAX_JOBS) throw new IllegalArgumentException("numjobs must be 1.." + MAX_JOBS + ", got " + numJobs);
        if (runtime == null) runtime = Duration.ZERO;
        if (runtime.isNegative()) throw new IllegalArgumentException("runtime must not be negative");
        if (ioCount < 0) throw new IllegalArgumentException("I/O count must not be negative");
        if (runtime.isZero() && ioCount == 0) throw new IllegalArgumentException("give a runtime or an I/O count");
        if (readPercent < 0 || readPercent > 100) throw new IllegalArgumentException("read percent must be 0..100, got " + readPercent);
        if (offset < 0 || length < 0) throw new IllegalArgumentException("offset and length must not be negative");
    }

    /** 4 KiB, iodepth 32, 1 job, 10 s, 50 % reads, whole device, seed 1. */
    public static BenchSpec of(Pattern p) {
        return new BenchSpec(p, 4096, 32, 1, Duration.ofSeconds(10), 0, 50, 0, 0, 1);
    }

    public BenchSpec withBlockSize(int v) { return new BenchSpec(pattern, v, ioDepth, numJobs, runtime, ioCount, readPercent, offset, length, seed); }
    public BenchSpec withIoDepth(int v) { return new BenchSpec(pattern, blockSize, v, numJobs, runtime, ioCount, readPercent, offset, length, seed); }
    public BenchSpec withNumJobs(int v) { return new BenchSpec(pattern, blockSize, ioDepth, v, runtime, ioCount, readPercent, offset, length, seed); }
    public BenchSpec withRuntime(Duration v) { return new BenchSpec(pattern, blockSize, ioDepth, numJobs, v, ioCount, readPercent, offset, length, seed); }
    public BenchSpec withIoCount(long v) { return new BenchSpec(pattern, blockSize, ioDepth, numJobs, runtime, v, readPercent, offset, length, seed); }
}
