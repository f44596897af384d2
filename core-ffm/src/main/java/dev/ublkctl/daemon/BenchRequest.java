package dev.ublkctl.daemon;

import dev.ublkctl.engine.load.BenchSpec;
import dev.ublkctl.engine.load.Pattern;

import java.time.Duration;

/**
 * The params of {@code device.bench}, with fio's names.
 *
 * @param rw       randread, randwrite, read, write or randrw
 * @param bs       block size in bytes
 * @param iodepth  I/Os in flight per job
 * @param numjobs  parallel jobs
 * @param runtime  seconds to run
 */
public record BenchRequest(String rw, long bs, int iodepth, int numjobs, double runtime) {
    /** The limits, for the command line's help. */
    public static final int MAX_IODEPTH = BenchSpec.MAX_IODEPTH, MAX_JOBS = BenchSpec.MAX_JOBS;
    /** Longest run: a day. */
    public static final double MAX_RUNTIME = 86_400;

    /**
     * The workload this request asks for, or why it cannot be one: the one check, made by
     * {@code bench} before it asks and by the daemon on every request.
     */
    public BenchSpec spec() {
        if (rw == null) throw new IllegalArgumentException("missing rw (read, write, randread, randwrite or randrw)");
        if (bs <= 0 || bs > Integer.MAX_VALUE) throw new IllegalArgumentException("block size must be a positive multiple of 512, got " + bs);
        if (!(runtime > 0) || runtime > MAX_RUNTIME) throw new IllegalArgumentException("runtime must be > 0 and at most a day, got " + runtime);
        return BenchSpec.of(Pattern.parse(rw)).withBlockSize((int) bs).withIoDepth(iodepth).withNumJobs(numjobs)
                .withRuntime(Duration.ofNanos((long) (runtime * 1e9)));
    }
}
