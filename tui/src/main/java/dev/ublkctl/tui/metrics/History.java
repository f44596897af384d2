package dev.ublkctl.tui.metrics;

/**
 * A bounded ring of samples over a time window, for one device's charts. Samples older than
 * the window are dropped; the ring also has a hard cap so a tiny refresh interval cannot grow it
 * without bound.
 */
public final class History {
    private final double windowSec;
    private final double[] t, iops, bpf;
    private int start, size;

    public History(double windowSec, int capacity) {
        if (!(windowSec > 0) || capacity < 2) throw new IllegalArgumentException("window and capacity must be positive");
        this.windowSec = windowSec;
        t = new double[capacity];
        iops = new double[capacity];
        bpf = new double[capacity];
    }

    public double windowSec() { return windowSec; }

    public void add(double timeSec, double iopsValue, double bpfShare) {
        if (size > 0 && timeSec < t[(start + size - 1) % t.length]) {
            throw new IllegalArgumentException("samples must be added in time order");
        }
        if (size == t.length) {
            start = (start + 1) % t.length;
            size--;
        }
        int i = (start + size) % t.length;
        t[i] = timeSec;
        iops[i] = iopsValue;
        bpf[i] = bpfShare;
        size++;
        while (size > 0 && t[start] < timeSec - windowSec) {
            start = (start + 1) % t.length;
            size--;
        }
    }

    public int size() { return size; }

    public Series iops() { return copy(iops); }

    /** The share of I/O parts redirected to the userspace target, 0..1. */
    public Series redirectShare() {
        Series s = copy(bpf);
        double[] v = s.values();
        for (int i = 0; i < v.length; i++) v[i] = Double.isNaN(v[i]) ? Double.NaN : 1 - v[i];
        return s;
    }

    public Series bpfShare() { return copy(bpf); }

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
