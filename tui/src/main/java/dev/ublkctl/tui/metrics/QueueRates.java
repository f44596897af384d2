package dev.ublkctl.tui.metrics;

/**
 * Rates of one queue (or a whole device, {@code queue == -1}) over one refresh interval.
 * NaN means "not known yet" (first sight of a device) or "no I/O" for ratios and latency.
 *
 * @param queue          queue index, -1 for the device total
 * @param iops           I/Os per second
 * @param mbPerSec       megabytes (10^6) per second
 * @param bpfShare       parts handled in BPF / (handled + redirected), 0..1
 * @param splitPerSec    extra parts from CONTINUE per second
 * @param errorsPerSec   failed I/Os per second
 * @param errors         failed I/Os since the device started
 * @param inFlight       I/Os in flight now
 * @param p99Nanos       99th percentile service time over the interval
 * @param progRunsPerSec program runs per second
 * @param avgRunNanos    average ns per program run over the interval
 * @param progRuns       program runs since the device started
 */
public record QueueRates(int queue, double iops, double mbPerSec, double bpfShare, double splitPerSec,
                         double errorsPerSec, long errors, long inFlight, double p99Nanos,
                         double progRunsPerSec, double avgRunNanos, long progRuns) {

    /** Share redirected to the userspace target, 0..1 (NaN when unknown). */
    public double redirectShare() { return Double.isNaN(bpfShare) ? Double.NaN : 1 - bpfShare; }

    /** Rates for a queue seen for the first time: counts only, no rates yet. */
    static QueueRates unknown(int queue, long errors, long inFlight, long progRuns) {
        double n = Double.NaN;
        return new QueueRates(queue, n, n, n, n, n, errors, inFlight, n, n, n, progRuns);
    }
}
