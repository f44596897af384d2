package dev.ublkctl.tui.metrics;

import dev.ublkctl.tui.model.LatencyHistogram;
import dev.ublkctl.tui.model.QueueCounters;

import java.util.ArrayList;
import java.util.List;

/** What one queue's counters grew by between two snapshots. */
record Delta(long ios, long bytes, long bpfHandled, long redirected, long splitParts, long errors,
             long progRuns, long progRunNanos, LatencyHistogram latency) {

    /**
     * The growth from {@code prev} to {@code cur}. A counter that went down means the device's
     * counters restarted from zero in between (a restarted daemon re-created it): then the current
     * values are the growth since that restart, as Prometheus' rate() treats resets.
     */
    static Delta between(QueueCounters prev, QueueCounters cur) {
        boolean reset = cur.ios() < prev.ios() || cur.bytes() < prev.bytes() || cur.bpfHandled() < prev.bpfHandled()
                || cur.redirected() < prev.redirected() || cur.splitParts() < prev.splitParts()
                || cur.errors() < prev.errors() || cur.progRuns() < prev.progRuns() || cur.progRunNanos() < prev.progRunNanos();
        LatencyHistogram lat = reset ? null : cur.latency().minus(prev.latency());
        if (reset || lat == null) return of(cur);
        return new Delta(cur.ios() - prev.ios(), cur.bytes() - prev.bytes(), cur.bpfHandled() - prev.bpfHandled(),
                cur.redirected() - prev.redirected(), cur.splitParts() - prev.splitParts(), cur.errors() - prev.errors(),
                cur.progRuns() - prev.progRuns(), cur.progRunNanos() - prev.progRunNanos(), lat);
    }

    /** The whole counters as growth since zero. */
    static Delta of(QueueCounters c) {
        return new Delta(c.ios(), c.bytes(), c.bpfHandled(), c.redirected(), c.splitParts(), c.errors(),
                c.progRuns(), c.progRunNanos(), c.latency());
    }

    static Delta sum(List<Delta> ds) {
        long ios = 0, bytes = 0, bpf = 0, red = 0, split = 0, err = 0, runs = 0, ns = 0;
        List<LatencyHistogram> lats = new ArrayList<>();
        for (Delta d : ds) {
            ios += d.ios; bytes += d.bytes; bpf += d.bpfHandled; red += d.redirected; split += d.splitParts;
            err += d.errors; runs += d.progRuns; ns += d.progRunNanos;
            lats.add(d.latency);
        }
        return new Delta(ios, bytes, bpf, red, split, err, runs, ns, LatencyHistogram.sum(lats));
    }

    /** Turns growth over {@code seconds} into rates. */
    QueueRates rates(int queue, double seconds, long errorsTotal, long inFlight, long progRunsTotal) {
        if (!(seconds > 0)) return QueueRates.unknown(queue, errorsTotal, inFlight, progRunsTotal);
        long parts = bpfHandled + redirected;
        return new QueueRates(queue, ios / seconds, bytes / 1e6 / seconds,
                parts == 0 ? Double.NaN : (double) bpfHandled / parts,
                splitParts / seconds, errors / seconds, errorsTotal, inFlight,
                Percentiles.of(latency, 99), progRuns / seconds,
                progRuns == 0 ? Double.NaN : (double) progRunNanos / progRuns, progRunsTotal);
    }
}
