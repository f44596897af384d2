package dev.ublkctl.tui.metrics;

/**
 * A bounded ring of samples over a time window, one value per {@link Metric} at each time, for one
 * device's (or queue's) charts. Samples older than the window are dropped; the ring also has a hard
 * cap so a tiny refresh interval cannot grow it without bound.
 */
public final class History {
    private static final Metric[] METRICS = Metric.values();
    private final double windowSec;
    private final double[] t;
    private final double[][] v;
    private int start, size;

    public History(double windowSec, int capacity) {
        if (!(windowSec > 0) || capacity < 2) throw new IllegalArgumentException("window and capacity must be positive");
        this.windowSec = windowSec;
        t = new double[capacity];
        v = new double[METRICS.length][capacity];
    }

    public double windowSec() { return windowSec; }

    /** A sample of every metric of {@code r} at {@code timeSec}. */
    public void add(double timeSec, QueueRates r) {
        int i = slot(timeSec);
        for (Metric m : METRICS) v[m.ordinal()][i] = m.of(r);
    }

    /** A sample with only IOPS and the BPF share (the others unknown). */
    public void add(double timeSec, double iopsValue, double bpfShare) {
        int i = slot(timeSec);
        for (Metric m : METRICS) v[m.ordinal()][i] = Double.NaN;
        v[Metric.IOPS.ordinal()][i] = iopsValue;
        v[Metric.BPF_SHARE.ordinal()][i] = bpfShare;
    }

    private int slot(double timeSec) {
        if (size > 0 && timeSec < t[(start + size - 1) % t.length]) {
            throw new IllegalArgumentException("samples must be added in time order");
        }
        if (size == t.length) {
            start = (start + 1) % t.length;
            size--;
        }
        while (size > 0 && t[start] < timeSec - windowSec) {
            start = (start + 1) % t.length;
            size--;
        }
        int i = (start + size) % t.length;
        t[i] = timeSec;
        size++;
        return i;
    }

    public int size() { return size; }

    public Series of(Metric m) { return copy(v[m.ordinal()]); }

    public Series iops() { return of(Metric.IOPS); }

    /** The share of I/O parts redirected to the userspace target, 0..1. */
    public Series redirectShare() {
        Series s = of(Metric.BPF_SHARE);
        double[] vv = s.values();
        for (int i = 0; i < vv.length; i++) vv[i] = Double.isNaN(vv[i]) ? Double.NaN : 1 - vv[i];
        return s;
    }

    public Series bpfShare() { return of(Metric.BPF_SHARE); }

    private Series copy(double[] src) {
        double[] tt = new double[size], vv = new double[size];
        for (int k = 0; k < size; k++) {
            int i = (start + k) % t.length;
            tt[k] = t[i];
            vv[k] = src[i];
        }
        return new Series(tt, vv);
    }
}
