package dev.ublkctl.tui.metrics;

import java.util.function.ToDoubleFunction;

/** The per-interval numbers the charts draw, each read from a {@link QueueRates}. */
public enum Metric {
    IOPS(QueueRates::iops),
    MBPS(QueueRates::mbPerSec),
    /** Share of parts completed in BPF, 0..1. */
    BPF_SHARE(QueueRates::bpfShare),
    SPLIT_PER_SEC(QueueRates::splitPerSec),
    /** P99 service time over the interval, ns. */
    P99_NANOS(QueueRates::p99Nanos),
    /** Average program run time over the interval, ns. */
    NS_PER_RUN(QueueRates::avgRunNanos);

    private final ToDoubleFunction<QueueRates> read;

    Metric(ToDoubleFunction<QueueRates> read) { this.read = read; }

    public double of(QueueRates r) { return read.applyAsDouble(r); }
}
