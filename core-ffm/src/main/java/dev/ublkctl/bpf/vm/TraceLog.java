package dev.ublkctl.bpf.vm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Where {@code bpf_printk} output goes (the VM's trace_pipe): a bounded ring of the newest lines plus
 * listeners called for each line. Thread-safe.
 */
public final class TraceLog {
    private final String[] ring;
    private long written;
    private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();

    public TraceLog() { this(1024); }

    public TraceLog(int capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("capacity must be positive");
        ring = new String[capacity];
    }

    public void addListener(Consumer<String> l) { listeners.add(l); }
    public void removeListener(Consumer<String> l) { listeners.remove(l); }

    public void append(String line) {
        synchronized (this) {
            ring[(int) (written++ % ring.length)] = line;
        }
        for (Consumer<String> l : listeners) l.accept(line);
    }

    /** The newest lines, oldest first (at most the ring's capacity). */
    public synchronized List<String> lines() {
        int n = (int) Math.min(written, ring.length);
        List<String> out = new ArrayList<>(n);
        for (long i = written - n; i < written; i++) out.add(ring[(int) (i % ring.length)]);
        return out;
    }

    /** Total lines ever appended. */
    public synchronized long count() { return written; }

    public synchronized void clear() {
        java.util.Arrays.fill(ring, null);
        written = 0;
    }
}
