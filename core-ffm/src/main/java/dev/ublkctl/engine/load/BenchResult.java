package dev.ublkctl.engine.load;
import dev.ublkctl.engine.stats.LatencySnapshot;

import java.time.Duration;

/**
 * A bench run's summary, fio style. {@code latency} is end to end (submit → the job reaping the completion, as fio measures clat);
 * the BPF counters are the device's, over the run.
 */
public record BenchResult(BenchSpec spec, Duration elapsed, long readIos, long writeIos, long readBytes,
                          long writeBytes, double iops, double mbPerSec, LatencySnapshot latency, long errors,
                          long bpfHandled, long redirected, long splitParts) {
    public long ios() { return readIos + writeIos; }

    /** A short fio-like report. */
    public String summary() {
        return String.format("%s: bs=%d iodepth=%d numjobs=%d%n  IOPS=%.0f, BW=%.1fMB/s, ios=%d (read %d, write %d), errors=%d, time=%.3fs%n"
                        + "  lat (usec): avg=%.2f, p50=%.2f, p99=%.2f, p99.9=%.2f, max=%.2f%n  bpf: handled=%d redirected=%d split parts=%d",
                spec.pattern().fioName(), spec.blockSize(), spec.ioDepth(), spec.numJobs(), iops, mbPerSec, ios(), readIos,
                writeIos, errors, elapsed.toNanos() / 1e9, latency.meanNanos() / 1e3, latency.p50() / 1e3, latency.p99() / 1e3,
                latency.p999() / 1e3, latency.maxNanos() / 1e3, bpfHandled, redirected, splitParts);
    }
}
