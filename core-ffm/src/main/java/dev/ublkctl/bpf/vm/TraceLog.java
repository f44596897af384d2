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

    /**
     * The lines numbered {@code from} on (line n is the n-th ever appended, from 0), oldest first, at
     * most {@code max}; lines the ring no longer holds are skipped and counted in {@code lost}.
     * {@code from < 0} means the newest {@code -from} lines.
     */
    public synchronized Slice since(long from, int max) {
        long oldest = Math.max(0, written - ring.length);
        long start = from < 0 ? Math.max(oldest, written + from) : Math.max(from, oldest);
        long lost = from < 0 ? 0 : Math.max(0, Math.min(oldest, written) - from);
        int n = (int) Math.max(0, Math.min(Math.max(0, max), written - start));
        List<String> out = new ArrayList<>(n);
        for (long i = start; i < start + n; i++) out.add(ring[(int) (i % ring.length)]);
        return new Slice(start, out, start + n, lost);
    }

    /** Lines {@code first .. next-1} of the log; {@code lost} lines asked for had left the ring. */
    public record Slice(long first, List<String> lines, long next, long lost) { }

    /** Total lines ever appended. */
    public synchronized long count() { return written; }

    public synchronized void clear() {
        java.util.Arrays.fill(ring, null);
        written = 0;
    }
}
