package dev.ublkctl.cli.docs;

import dev.ublkctl.cli.Cli;
import dev.ublkctl.cli.common.ExitCode;
import dev.ublkctl.cli.common.Version;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes troff man pages from the picocli model: {@code ublkctl.1} and one page per verb
 * ({@code ublkctl-add.1}, {@code ublkctl-prog-show.1}, ...). Run at build time by the man module:
 * {@code java dev.ublkctl.cli.docs.ManPages OUTDIR}.
 */
public final class ManPages {
    private ManPages() {}

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "man/target/man");
        List<Path> written = write(dir);
        System.out.println("wrote " + written.size() + " man pages to " + dir);
    }

    public static List<Path> write(Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> out = new ArrayList<>();
        CommandLine root = Cli.commandLine();
        walk(root, dir, out);
        return out;
    }

    private static void walk(CommandLine cl, Path dir, List<Path> out) throws IOException {
        CommandSpec spec = cl.getCommandSpec();
        if (spec.usageMessage().hidden()) return;
        Path p = dir.resolve(pageName(spec) + ".1");
        Files.writeString(p, page(cl), StandardCharsets.UTF_8);
        out.add(p);
        for (var e : cl.getSubcommands().entrySet()) {
            if (!e.getKey().equals(e.getValue().getCommandName())) continue; // alias
            walk(e.getValue(), dir, out);
        }
    }

    static String pageName(CommandSpec spec) {
        return spec.qualifiedName("-");
    }

    static String page(CommandLine cl) {
        CommandSpec spec = cl.getCommandSpec();
        String name = pageName(spec);
        String[] desc = spec.usageMessage().description();
        StringBuilder t = new StringBuilder();
        t.append(".\\\" Generated from the picocli model by dev.ublkctl.cli.docs.ManPages; do not edit.\n");
        t.append(".TH \"").append(name.toUpperCase()).append("\" \"1\" \"").append(LocalDate.now())
                .append("\" \"ublkctl ").append(Version.version()).append("\" \"ublkctl Manual\"\n");
        t.append(".SH NAME\n").append(esc(name)).append(" \\- ").append(esc(desc.length > 0 ? desc[0] : "")).append('\n');

        t.append(".SH SYNOPSIS\n.nf\n");
        Help help = new Help(spec, Help.defaultColorScheme(Help.Ansi.OFF));
        for (String line : help.synopsis(0).stripTrailing().split("\n")) t.append(escLine(line.stripTrailing())).append('\n');
        t.append(".fi\n");

        t.append(".SH DESCRIPTION\n");
        for (String d : desc) {
            if (d.isBlank()) t.append(".PP\n");
            else t.append(escLine(d)).append("\n.PP\n");
        }

        if (!cl.getSubcommands().isEmpty()) {
            t.append(".SH COMMANDS\n");
            for (var e : cl.getSubcommands().entrySet()) {
                CommandSpec s = e.getValue().getCommandSpec();
                if (!e.getKey().equals(s.name()) || s.usageMessage().hidden()) continue;
                t.append(".TP\n\\fB").append(esc(s.name())).append("\\fR");
                if (s.aliases().length > 0) t.append(" (also \\fB").append(esc(String.join(", ", s.aliases()))).append("\\fR)");
                t.append('\n');
                String[] sd = s.usageMessage().description();
                t.append(esc(sd.length > 0 ? sd[0] : "")).append(" See \\fB").append(esc(pageName(s))).append("\\fR(1).\n");
            }
        }

        List<PositionalParamSpec> pos = spec.positionalParameters();
        if (!pos.isEmpty()) {
            t.append(".SH ARGUMENTS\n");
            for (PositionalParamSpec p : pos) {
                if (p.hidden()) continue;
                t.append(".TP\n\\fI").append(esc(p.paramLabel())).append("\\fR\n")
                        .append(esc(String.join(" ", p.description()))).append('\n');
            }
        }

        t.append(".SH OPTIONS\n");
        for (OptionSpec o : spec.options()) {
            if (o.hidden()) continue;
            t.append(".TP\n");
            List<String> names = new ArrayList<>();
            for (String n : o.names()) names.add("\\fB" + esc(n) + "\\fR");
            t.append(String.join(", ", names));
            if (o.arity().max() > 0 && !o.typeInfo().isBoolean()) t.append(" \\fI").append(esc(o.paramLabel())).append("\\fR");
            t.append('\n');
            String d = String.join(" ", o.description());
            if (o.defaultValue() != null) d = d.replace("${DEFAULT-VALUE}", o.defaultValue());
            t.append(esc(d)).append('\n');
        }

        String[] footer = spec.usageMessage().footer();
        List<String> examples = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (String f : footer) {
            if (f.startsWith("  ")) examples.add(f.strip());
            else if (!f.isBlank()) notes.add(f);
        }
        if (!examples.isEmpty()) {
            t.append(".SH EXAMPLES\n.nf\n");
            for (String e : examples) t.append(".RS 4\n").append(escLine(e)).append("\n.RE\n");
            t.append(".fi\n");
        }
        if (!notes.isEmpty() && spec.parent() != null) {
            t.append(".SH NOTES\n");
            for (String n : notes) t.append(escLine(n)).append("\n.PP\n");
        }

        t.append(".SH EXIT STATUS\n");
        for (String[] row : ExitCode.TABLE) t.append(".TP\n.B ").append(row[0]).append('\n').append(esc(row[1])).append('\n');

        t.append(".SH ENVIRONMENT\n");
        t.append(".TP\n.B UBLKCTL_RUN_DIR\nRun dir with the daemon socket and device records "
                + "(default /run/ublkctl as root, else $XDG_RUNTIME_DIR/ublkctl).\n");
        t.append(".TP\n.B NO_COLOR\nWhen set, no colors.\n");
        t.append(".TP\n.B UBLKCTL_DEBUG\nWhen 1, as \\fB\\-\\-debug\\fR: stack traces on errors.\n");
        t.append(".TP\n.B XDG_STATE_HOME\nThe shell keeps its history in $XDG_STATE_HOME/ublkctl/history "
                + "(default ~/.local/state/ublkctl/history).\n");

        t.append(".SH SEE ALSO\n");
        List<String> see = new ArrayList<>();
        if (spec.parent() != null) see.add("\\fB" + esc(pageName(spec.parent())) + "\\fR(1)");
        else {
            for (var e : cl.getSubcommands().entrySet()) {
                CommandSpec s = e.getValue().getCommandSpec();
                if (e.getKey().equals(s.name()) && !s.usageMessage().hidden()) see.add("\\fB" + esc(pageName(s)) + "\\fR(1)");
            }
            see.add("\\fBbpftool\\fR(8)");
            see.add("\\fBfio\\fR(1)");
        }
        t.append(String.join(", ", see)).append('\n');
        return t.toString();
    }

    /** Escapes troff specials inside a line. */
    static String esc(String s) {
        return s.replace("\\", "\\e").replace("-", "\\-").replace("'", "\\(aq");
    }

    /** Escapes a whole line: also a leading '.' or '\'' that troff would take as a request. */
    static String escLine(String s) {
        String e = esc(s);
        return e.startsWith(".") || e.startsWith("\\(aq") ? "\\&" + e : e;
    }
}
