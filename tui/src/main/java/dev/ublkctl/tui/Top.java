package dev.ublkctl.tui;

import com.googlecode.lanterna.terminal.DefaultTerminalFactory;
import com.googlecode.lanterna.terminal.Terminal;
import com.googlecode.lanterna.terminal.ansi.UnixLikeTerminal;
import dev.ublkctl.tui.metrics.MonitorFrame;
import dev.ublkctl.tui.metrics.RateCalculator;
import dev.ublkctl.tui.source.MonitorActions;
import dev.ublkctl.tui.source.MonitorSource;
import dev.ublkctl.tui.ui.Monitor;
import dev.ublkctl.tui.ui.Renderer;
import dev.ublkctl.tui.ui.ViewState;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/** The entry points of {@code ublkctl top}: the full-screen monitor and the one-frame text dump. */
public final class Top {
    private Top() {}

    /**
     * Runs the full-screen monitor on the process's terminal until the user quits; the terminal
     * is restored on the way out, also when drawing fails.
     * @throws IllegalStateException when there is no terminal to draw on
     */
    public static void interactive(MonitorSource source, Duration interval) throws IOException {
        interactive(source, interval, MonitorActions.NONE);
    }

    /** The same, with the action keys doing {@code actions}. */
    public static void interactive(MonitorSource source, Duration interval, MonitorActions actions) throws IOException {
        if (System.console() == null || !System.console().isTerminal()) {
            throw new IllegalStateException("top needs a terminal (stdin and stdout a tty); use --once for scripts");
        }
        Terminal term = new DefaultTerminalFactory(System.out, System.in, java.nio.charset.StandardCharsets.UTF_8)
                .setForceTextTerminal(true)
                .setUnixTerminalCtrlCBehaviour(UnixLikeTerminal.CtrlCBehaviour.TRAP)
                .createTerminal();
        term.enterPrivateMode();
        try {
            term.setCursorVisible(false);
            term.clearScreen();
            new Monitor(source, interval).actions(actions).run(term);
        } finally {
            term.setCursorVisible(true);
            term.resetColorAndSGR();
            term.exitPrivateMode();
            term.close();
        }
    }

    /**
     * Draws one frame as plain text (the devices table; rates over {@code interval}, so this
     * takes two snapshots that far apart) and prints it, trailing blanks trimmed.
     */
    public static MonitorFrame once(MonitorSource source, Duration interval, int columns, PrintWriter out) throws IOException {
        MonitorFrame f = sample(source, interval);
        if (f == null) return null;
        for (String line : renderText(f, new ViewState(), source.describe(), interval, columns, Math.max(8, f.rows().size() + 4))) {
            out.println(line);
        }
        out.flush();
        return f;
    }

    /** Two snapshots {@code interval} apart, as one frame with rates; null if interrupted. */
    public static MonitorFrame sample(MonitorSource source, Duration interval) {
        RateCalculator calc = Monitor.calculator(interval);
        calc.update(source.poll(OptionalInt.empty()));
        try {
            Thread.sleep(interval);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        return calc.update(source.poll(OptionalInt.empty()));
    }

    /** Renders a frame as text lines of the given size, trailing blanks and blank last lines trimmed. */
    public static List<String> renderText(MonitorFrame f, ViewState v, String sourceName, Duration interval, int columns, int rows) {
        List<String> lines = new ArrayList<>();
        for (String l : new Renderer(sourceName, interval.toNanos() / 1e9, false).text(columns, rows, v, f)) lines.add(l.stripTrailing());
        while (!lines.isEmpty() && lines.getLast().isEmpty()) lines.removeLast();
        return lines;
    }
}
