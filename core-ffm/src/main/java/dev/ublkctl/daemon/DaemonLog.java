package dev.ublkctl.daemon;

import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The daemon's log with bounds: a message repeated with other numbers in it (a program that faults
 * on every I/O, an accept loop out of descriptors) is written {@link #BURST} times per
 * {@link #WINDOW_MS}, then counted, and the count is written when the window ends; the file it
 * writes is rotated once it passes {@link #MAX_BYTES} (one old generation, {@code .1}). So the
 * log stays readable and its size stays under about twice the cap whatever a device does.
 * <p>The engine logs through {@code java.util.logging}; {@link #captureJavaLogging()} routes those
 * records here too, so every line passes the same limiter.
 */
public final class DaemonLog implements Consumer<String> {

    /** Lines of one shape written per window before the rest are only counted. */
    public static final int BURST = 5;
    public static final long WINDOW_MS = 10_000;
    /** Size at which the log file is rotated. */
    public static final long MAX_BYTES = 8L << 20;
    /** Shapes remembered at once (each is a few hundred bytes): a bound on the limiter's own memory. */
    static final int MAX_SHAPES = 256;

    /** Where finished lines go, and how the file is rotated when it is full. */
    public interface Sink {
        void write(String line);
        /** Bytes written to the current file so far. */
        long size();
        /** Starts a new file (the old one kept as one generation); no-op where there is no file. */
        void rotate();
    }

    private static final class Shape {
        long windowStart;
        int written;
        long suppressed;
        String last;
    }

    private final Sink sink;
    private final Clock clock;
    private final Map<String, Shape> shapes = new LinkedHashMap<>(64, 0.75f, true);
    private long suppressedTotal;

    public DaemonLog(Sink sink, Clock clock) {
        this.sink = sink;
        this.clock = clock;
    }

    public DaemonLog(Sink sink) { this(sink, Clock.systemUTC()); }

    /** Lines suppressed so far (tests and {@code daemon.info}). */
    public synchronized long suppressed() { return suppressedTotal; }

    @Override
    public synchronized void accept(String message) {
        long now = clock.millis();
        String key = shapeOf(message);
        Shape s = shapes.get(key);
        if (s == null) {
            if (shapes.size() >= MAX_SHAPES) evictOldest(now);
            s = new Shape();
            s.windowStart = now;
            shapes.put(key, s);
        }
        if (now - s.windowStart >= WINDOW_MS) {
            flush(s, now);
            s.windowStart = now;
            s.written = 0;
        }
        if (s.written < BURST) {
            s.written++;
            emit(now, message);
        } else {
            s.suppressed++;
            suppressedTotal++;
            s.last = message;
        }
    }

    /** Writes the counts of windows that have ended (the daemon calls this now and then). */
    public synchronized void tick() {
        long now = clock.millis();
        for (Shape s : shapes.values()) {
            if (s.suppressed > 0 && now - s.windowStart >= WINDOW_MS) {
                flush(s, now);
                s.windowStart = now;
                s.written = 0;
            }
        }
    }

    private void flush(Shape s, long now) {
        if (s.suppressed == 0) return;
        emit(now, "(" + s.suppressed + " more like this in " + (now - s.windowStart) / 1000 + " s, last: " + s.last + ")");
        s.suppressed = 0;
        s.last = null;
    }

    private void evictOldest(long now) {
        var it = shapes.entrySet().iterator();
        Shape s = it.next().getValue();
        flush(s, now);
        it.remove();
    }

    private void emit(long now, String message) {
        if (sink.size() >= MAX_BYTES) sink.rotate();
        sink.write(Instant.ofEpochMilli(now) + " " + message);
    }

    /** A message with its numbers (ids, tags, addresses, counts) taken out: what repeats. */
    static String shapeOf(String m) {
        StringBuilder b = new StringBuilder(Math.min(m.length(), 200));
        boolean inNumber = false;
        for (int i = 0; i < m.length() && b.length() < 200; i++) {
            char c = m.charAt(i);
            boolean digit = Character.isDigit(c) || (inNumber && (c == 'x' || (c >= 'a' && c <= 'f')));
            if (digit) {
                if (!inNumber) b.append('#');
                inNumber = true;
            } else {
                inNumber = false;
                b.append(c);
            }
        }
        return b.toString();
    }

    /** Sends {@code java.util.logging} records (the engine's warnings) through this log, one line each. */
    public void captureJavaLogging() {
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) root.removeHandler(h);
        root.addHandler(new Handler() {
            @Override public void publish(LogRecord r) {
                if (!isLoggable(r)) return;
                String msg = r.getMessage();
                if (r.getThrown() != null) msg = msg + ": " + r.getThrown();
                accept((r.getLevel().intValue() >= Level.WARNING.intValue() ? r.getLevel().getName().toLowerCase() + ": " : "") + msg);
            }
            @Override public void flush() { }
            @Override public void close() { }
        });
    }
}
