package dev.ublkctl.daemon;

import dev.ublkctl.engine.load.BenchResult;

/**
 * The JSON of {@code device.bench} (and {@code ublkctl bench --json}): fio's names where fio
 * has one. Latency is end to end (submit → completion), like fio's clat.
 */
public record BenchView(int id, String rw, int bs, int iodepth, int numjobs, double runtimeSec, double elapsedSec,
                        long ios, long readIos, long writeIos, long readBytes, long writeBytes, double iops,
                        double mbPerSec, StatsView.Latency clat, long errors, long bpfHandled, long redirected,
                        long splitParts, boolean cancelled) {

    static BenchView of(int id, BenchResult r, boolean cancelled) {
        var s = r.spec();
        return new BenchView(id, s.pattern().name().toLowerCase(java.util.Locale.ROOT), s.blockSize(), s.ioDepth(),
                s.numJobs(), s.runtime().toNanos() / 1e9, r.elapsed().toNanos() / 1e9, r.ios(), r.readIos(),
                r.writeIos(), r.readBytes(), r.writeBytes(), r.iops(), r.mbPerSec(), StatsView.Latency.of(r.latency()),
                r.errors(), r.bpfHandled(), r.redirected(), r.splitParts(), cancelled);
    }

    /** A progress notification: totals so far and the rate over the last interval. */
    public record Progress(double elapsedSec, long ios, long bytes, double iops, double mbPerSec) { }
}
