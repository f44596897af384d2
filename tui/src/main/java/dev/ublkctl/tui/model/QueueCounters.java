package dev.ublkctl.tui.model;

/**
 * Cumulative counters of one queue, as the engine keeps them (they only grow while the device
 * lives; a restart starts them at zero again).
 *
 * @param queue        queue index
 * @param ios          I/Os completed (all ops)
 * @param bytes        bytes transferred
 * @param bpfHandled   I/O parts the program completed itself (QUEUED)
 * @param redirected   I/O parts sent to the userspace target (REDIRECT)
 * @param splitParts   extra parts created by CONTINUE (splits)
 * @param errors       I/Os that failed
 * @param inFlight     I/Os in the queue right now (a gauge, not a counter)
 * @param latency      service-time histogram
 * @param progRuns     runs of the program's queue_io_cmd
 * @param progRunNanos time spent in those runs
 */
public record QueueCounters(int queue, long ios, long bytes, long bpfHandled, long redirected, long splitParts,
                            long errors, long inFlight, LatencyHistogram latency, long progRuns, long progRunNanos) {
    public QueueCounters {
        if (latency == null) latency = LatencyHistogram.EMPTY;
    }
}
