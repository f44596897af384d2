package dev.ublkctl.tui.testing;

import dev.ublkctl.tui.model.MonitorSnapshot;
import dev.ublkctl.tui.source.MonitorSource;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;

/** A source that plays back scripted snapshots (the last one repeats) and records the focus asked for. */
public final class FakeSource implements MonitorSource {
    private final Deque<MonitorSnapshot> script;
    private MonitorSnapshot last;
    public final List<OptionalInt> focuses = new CopyOnWriteArrayList<>();
    public volatile boolean closed;

    public FakeSource(List<MonitorSnapshot> script) { this.script = new ArrayDeque<>(script); }

    @Override
    public synchronized MonitorSnapshot poll(OptionalInt focus) {
        focuses.add(focus);
        if (!script.isEmpty()) last = script.poll();
        return last;
    }

    @Override public String describe() { return "fake"; }

    @Override public void close() { closed = true; }
}
