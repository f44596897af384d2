package dev.ublkctl.cli.cmd;

import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.CommandTree;
import dev.ublkctl.cli.shell.Shell;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;

@Command(name = "shell",
        description = {"Interactive shell with completion and history.",
                "Runs the same commands, completing verbs, options, device ids, map and program names and file paths.",
                "History is kept in $XDG_STATE_HOME/ublkctl/history (or ~/.local/state/ublkctl/history). "
                        + "Ctrl-C cancels the running command; Ctrl-D or 'exit' leaves."},
        footerHeading = "%nExamples:%n",
        footer = {"  ublkctl shell", "  ublkctl> add -t null --bpf null", "  ublkctl> stats -n 0", "  ublkctl> help map"})
public final class ShellCmd extends Cmd {
    @Option(names = "--history", paramLabel = "FILE", description = "History file (default: in the user's state dir).")
    Path history;

    @Override
    protected int run() throws Exception {
        try (Terminal t = TerminalBuilder.builder().name("ublkctl").system(true).dumb(true).nativeSignals(true)
                .signalHandler(Terminal.SignalHandler.SIG_IGN).build()) {
            CommandTree tree = ((UblkctlCommand) spec.root().userObject()).tree();
            return new Shell(tree, t, session(), history != null ? history : Shell.defaultHistory()).run();
        }
    }
}
