package dev.ublkctl.daemon;

/**
 * The params of {@code device.bench}, with fio's names.
 *
 * @param rw       randread, randwrite, read, write or randrw
 * @param bs       block size in bytes
 * @param iodepth  I/Os in flight per job
 * @param numjobs  parallel jobs
 * @param runtime  seconds to run
 */
public record BenchRequest(String rw, long bs, int iodepth, int numjobs, double runtime) { }
