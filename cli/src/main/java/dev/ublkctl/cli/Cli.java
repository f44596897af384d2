package dev.ublkctl.cli;

import dev.ublkctl.cli.common.TerminalText;

import dev.ublkctl.cli.cmd.UblkctlCommand;
import dev.ublkctl.cli.common.CliException;
import dev.ublkctl.cli.common.Cmd;
import dev.ublkctl.cli.common.CommandTree;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.daemon.DaemonUnavailableException;
import dev.ublkctl.daemon.RpcException;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds the configured command tree and runs one command line; shared by main, the shell and the generators. */
public final class Cli {
    private Cli() {}

    /** Verb groups of the top-level help. */
    public static final Map<String, List<String>> GROUPS = new LinkedHashMap<>();
    static {
        GROUPS.put("Devices", List.of("add", "del", "list", "stats", "bench", "verify"));
        GROUPS.put("NBD", List.of("export", "unexport"));
        GROUPS.put("BPF programs and maps", List.of("attach", "detach", "prog", "map"));
        GROUPS.put("Interactive", List.of("shell", "top", "demo"));
        GROUPS.put("This machine", List.of("features"));
    }

    /** The tree as commands see it (the shell runs its lines through it). */
    public static final CommandTree TREE = new CommandTree() {
        @Override public CommandLine commandLine() { return Cli.commandLine(); }
        @Override public int execute(String[] args, PrintWriter out, PrintWriter err) { return Cli.execute(args, out, err); }
    };

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new UblkctlCommand(TREE));
        addHelpOptions(cl);
        cl.setAbbreviatedSubcommandsAllowed(true);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler(Cli::onException);
        cl.setParameterExceptionHandler(Cli::onBadArgs);
        cl.getHelpSectionMap().put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_COMMAND_LIST, Cli::groupedCommands);
        cl.getHelpSectionMap().put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_COMMAND_LIST_HEADING, h -> "");
        return cl;
    }

    /** --help and --version at the top; --help on every verb. */
    private static void addHelpOptions(CommandLine cl) {
        CommandSpec spec = cl.getCommandSpec();
        if (spec.parent() == null) {
            spec.mixinStandardHelpOptions(true);
        } else if (spec.findOption("--help") == null) {
            spec.addOption(CommandLine.Model.OptionSpec.builder("-h", "--help").usageHelp(true)
                    .description("Show this help and exit.").build());
        }
        for (CommandLine sub : cl.getSubcommands().values()) addHelpOptions(sub);
    }

    /** Runs one command line with the given streams; returns its exit code. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = commandLine();
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(args);
    }

    static boolean debug(CommandLine cl) {
        if ("1".equals(System.getenv("UBLKCTL_DEBUG"))) return true;
        return cl.getCommand() instanceof Cmd c && c.globals.debug;
    }

    /** Maps exceptions to one line and an exit code; stack traces only with --debug. */
    private static int onException(Exception ex, CommandLine cl, CommandLine.ParseResult pr) {
        PrintWriter err = cl.getErr();
        int code;
        String msg;
        switch (ex) {
            case CliException c -> { code = c.exitCode(); msg = c.getMessage(); }
            case DaemonUnavailableException d -> { code = ExitCode.DAEMON; msg = d.getMessage() + " (start one with 'ublkctl add')"; }
            case RpcException r -> { code = exitCode(r); msg = r.getMessage(); }
            case InterruptedException i -> { code = ExitCode.INTERRUPTED; msg = "interrupted"; }
            case UncheckedIOException u -> { code = ExitCode.ERROR; msg = u.getMessage(); }
            default -> {
                code = ExitCode.ERROR;
                msg = ex.getMessage() == null ? ex.toString() : ex.getClass().getSimpleName() + ": " + ex.getMessage();
            }
        }
        if (ex instanceof RpcException r && r.code() == RpcException.CANCELLED) code = ExitCode.INTERRUPTED;
        err.println(cl.getCommandSpec().qualifiedName(" ") + ": " + TerminalText.safe(msg));
        if (debug(cl)) ex.printStackTrace(err);
        err.flush();
        return code;
    }

    public static int exitCode(RpcException r) {
        return switch (r.code()) {
            case RpcException.NOT_FOUND -> ExitCode.NOT_FOUND;
            case RpcException.INVALID_PARAMS -> ExitCode.USAGE;
            case RpcException.UNSUPPORTED -> ExitCode.UNSUPPORTED;
            case RpcException.CANCELLED -> ExitCode.INTERRUPTED;
            default -> ExitCode.ERROR;
        };
    }

    private static int onBadArgs(CommandLine.ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println("ublkctl: " + TerminalText.safe(ex.getMessage()));
        // a refused value's message names what is accepted: one line, as every other user error
        if (ex.getCause() instanceof CommandLine.TypeConversionException) {
            err.flush();
            return ExitCode.USAGE;
        }
        if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, err)) {
            err.println("Try '" + cl.getCommandSpec().qualifiedName() + " --help'.");
        }
        err.flush();
        return ExitCode.USAGE;
    }

    /** The top-level command list in groups; subcommand groups (prog, map) list plainly. */
    private static String groupedCommands(Help help) {
        CommandSpec spec = help.commandSpec();
        if (help.subcommands().isEmpty()) return "";
        if (spec.parent() != null) return help.commandList();
        Map<String, Help> subs = new LinkedHashMap<>();
        for (Help h : help.subcommands().values()) subs.put(h.commandSpec().name(), h);
        StringBuilder sb = new StringBuilder();
        List<String> seen = new ArrayList<>();
        int width = 2 + subs.keySet().stream().mapToInt(String::length).max().orElse(8) + 2;
        for (var g : GROUPS.entrySet()) {
            sb.append(String.format("%n%s:%n", g.getKey()));
            for (String name : g.getValue()) {
                Help h = subs.get(name);
                if (h == null) continue;
                seen.add(name);
                String d = h.commandSpec().usageMessage().description().length > 0
                        ? h.commandSpec().usageMessage().description()[0] : "";
                sb.append(String.format("  %-" + (width - 2) + "s%s%n", name, d));
            }
        }
        return sb.toString();
    }
}
