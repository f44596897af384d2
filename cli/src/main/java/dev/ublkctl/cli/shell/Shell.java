package dev.ublkctl.cli.shell;

import dev.ublkctl.cli.common.CommandTree;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.cli.common.Session;
import dev.ublkctl.cli.common.Version;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.RunDir;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ublkctl shell}: a JLine REPL running the same commands. Completion from the picocli
 * model, history in the user's state dir, {@code help [VERB]} inline, Ctrl-C cancels the
 * running command (its daemon call is closed, its thread interrupted) and not the shell.
 */
public final class Shell {
    private final CommandTree tree;
    private final Terminal terminal;
    private final Session session;
    private final Path historyFile;

    public Shell(CommandTree tree, Terminal terminal, Session session, Path historyFile) {
        this.tree = tree;
        this.terminal = terminal;
        this.session = session;
        this.historyFile = historyFile;
    }

    /** The default history file: {@code $XDG_STATE_HOME/ublkctl/history} or {@code ~/.local/state/ublkctl/history}. */
    public static Path defaultHistory() { return RunDir.stateDir().resolve("history"); }

    public LineReader reader() {
        CommandLine model = tree.commandLine();
        DefaultParser parser = new DefaultParser();
        parser.setEscapeChars(new char[0]);
        try { Files.createDirectories(historyFile.getParent()); } catch (IOException ignored) { }
        return LineReaderBuilder.builder()
                .terminal(terminal)
                .appName("ublkctl")
                .parser(parser)
                .completer(new SpecCompleter(model.getCommandSpec(), session.runDir(), this::mapNames))
                .variable(LineReader.HISTORY_FILE, historyFile)
                .variable(LineReader.HISTORY_SIZE, 1000)
                .option(LineReader.Option.AUTO_FRESH_LINE, true)
                .option(LineReader.Option.HISTORY_IGNORE_DUPS, true)
                .build();
    }

    /** Map names of a device, asked of the daemon; empty when it cannot say. */
    private List<String> mapNames(int dev) {
        List<String> names = new ArrayList<>();
        try (DaemonClient c = session.connect()) {
            for (dev.ublkctl.daemon.MapView m : c.maps(dev)) names.add(m.name());
        } catch (RuntimeException ignored) {
            // no daemon or no such device: nothing to offer
        }
        return names;
    }

    /** Runs until exit, Ctrl-D or end of input; returns the last command's exit code. */
    public int run() {
        LineReader reader = reader();
        PrintWriter w = terminal.writer();
        w.println("ublkctl " + Version.version() + " shell: TAB completes, 'help' lists commands, Ctrl-C cancels, Ctrl-D quits.");
        w.flush();
        int last = ExitCode.OK;
        while (true) {
            String line;
            try {
                line = reader.readLine("ublkctl> ");
            } catch (UserInterruptException e) {
                continue; // Ctrl-C at the prompt: a fresh line
            } catch (EndOfFileException e) {
                break;
            }
            List<String> words = new ArrayList<>(reader.getParsedLine().words());
            words.removeIf(String::isEmpty);
            if (words.isEmpty()) continue;
            String verb = words.getFirst();
            if (verb.equals("exit") || verb.equals("quit")) break;
            if (verb.equals("shell")) {
                w.println("already in the shell");
                w.flush();
                continue;
            }
            if (verb.equals("help") || verb.equals("?")) {
                words.removeFirst();
                words.add("--help");
            }
            last = execute(words.toArray(String[]::new));
        }
        try { reader.getHistory().save(); } catch (IOException ignored) { }
        return last;
    }

    /** One command on a worker thread; Ctrl-C closes its daemon connections and interrupts it. */
    public int execute(String[] args) {
        PrintWriter w = terminal.writer();
        int[] code = {ExitCode.ERROR};
        Thread worker = Thread.ofPlatform().name("shell-cmd").start(() -> code[0] = tree.execute(args, w, w));
        Terminal.SignalHandler prev = terminal.handle(Terminal.Signal.INT, s -> {
            session.cancelAll();
            worker.interrupt();
        });
        try {
            while (true) {
                try {
                    worker.join();
                    break;
                } catch (InterruptedException e) {
                    session.cancelAll();
                    worker.interrupt();
                }
            }
        } finally {
            terminal.handle(Terminal.Signal.INT, prev);
        }
        w.flush();
        return code[0];
    }
}
