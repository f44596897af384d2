package dev.ublkctl.cli.shell;

import dev.ublkctl.daemon.DeviceRecord;
import dev.ublkctl.daemon.DeviceRecords;
import dev.ublkctl.daemon.RunDir;
import org.jline.builtins.Completers;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Completion for the shell, read off the picocli model: verbs and subverbs (with their
 * one-line description), options, option values (device ids from the run dir's records,
 * bundled programs, targets, ...), map names (asked of the daemon) and file paths.
 */
public final class SpecCompleter implements Completer {
    private final CommandSpec root;
    private final RunDir runDir;
    private final Function<Integer, List<String>> mapNames;
    private final Completer files = new Completers.FileNameCompleter();

    /**
     * @param mapNames map names of a device (from the daemon), empty if unknown
     */
    public SpecCompleter(CommandSpec root, RunDir runDir, Function<Integer, List<String>> mapNames) {
        this.root = root;
        this.runDir = runDir;
        this.mapNames = mapNames;
    }

    @Override
    public void complete(LineReader reader, ParsedLine line, List<Candidate> out) {
        List<String> words = line.words().subList(0, line.wordIndex());
        String cur = line.word().substring(0, Math.min(line.wordCursor(), line.word().length()));
        CommandSpec spec = root;
        int i = 0;
        // Walk the verbs typed so far (full names, aliases or unambiguous prefixes).
        for (; i < words.size(); i++) {
            CommandSpec sub = findSub(spec, words.get(i));
            if (sub == null) break;
            spec = sub;
        }
        List<String> rest = words.subList(i, words.size());
        // The value of an option?
        if (!rest.isEmpty()) {
            OptionSpec prev = spec.findOption(rest.getLast());
            if (prev != null && prev.arity().max() > 0 && !prev.typeInfo().isBoolean()) {
                optionValues(reader, line, spec, prev, out);
                return;
            }
        }
        if (cur.startsWith("-")) {
            for (OptionSpec o : spec.options()) {
                if (o.hidden()) continue;
                String d = o.description().length > 0 ? o.description()[0] : null;
                for (String n : o.names()) out.add(new Candidate(n, n, "options", d, null, null, true));
            }
            return;
        }
        if (!spec.subcommands().isEmpty()) {
            for (Map.Entry<String, CommandLine> e : spec.subcommands().entrySet()) {
                CommandSpec s = e.getValue().getCommandSpec();
                if (s.usageMessage().hidden()) continue;
                if (!e.getKey().equals(s.name())) continue; // aliases: complete the main name only
                String d = s.usageMessage().description().length > 0 ? s.usageMessage().description()[0] : null;
                out.add(new Candidate(e.getKey(), e.getKey(), "commands", d, null, null, true));
            }
            if (spec == root) {
                out.add(new Candidate("help", "help", "commands", "Help on a command: help [VERB]", null, null, true));
                out.add(new Candidate("exit", "exit", "commands", "Leave the shell", null, null, true));
            }
            return;
        }
        // Positional parameters: which one is this?
        int posIndex = positionalIndex(spec, rest);
        for (PositionalParamSpec p : spec.positionalParameters()) {
            if (!p.index().contains(posIndex)) continue;
            String label = p.paramLabel();
            if (label.equals("NAME")) {
                Integer dev = deviceOf(rest);
                if (dev != null) for (String m : mapNames.apply(dev)) out.add(new Candidate(m, m, "maps", null, null, null, true));
            } else if (label.contains(".o") || label.contains("FILE")) {
                files.complete(reader, line, out);
                if (label.contains(".o")) bundled(out);
            } else if (p.completionCandidates() != null) {
                for (String c : p.completionCandidates()) out.add(new Candidate(c));
            }
        }
    }

    private void optionValues(LineReader reader, ParsedLine line, CommandSpec spec, OptionSpec o, List<Candidate> out) {
        List<String> names = List.of(o.names());
        if (names.contains("-n") || names.contains("--number")) {
            for (DeviceRecord r : safeRecords()) {
                out.add(new Candidate(Integer.toString(r.id()), Integer.toString(r.id()), "devices",
                        r.target() + (r.program() != null ? " +bpf " + r.program() : "") + " (" + r.state() + ")",
                        null, null, true));
            }
            return;
        }
        if (names.contains("--bpf")) {
            bundled(out);
            files.complete(reader, line, out);
            return;
        }
        if (o.completionCandidates() != null) {
            for (String c : o.completionCandidates()) out.add(new Candidate(c));
            return;
        }
        if (o.paramLabel().contains("FILE") || o.typeInfo().getType() == java.nio.file.Path.class
                || o.typeInfo().getAuxiliaryTypes()[0] == java.nio.file.Path.class) {
            files.complete(reader, line, out);
        }
    }

    private List<DeviceRecord> safeRecords() {
        try {
            return new DeviceRecords(runDir).readAll();
        } catch (RuntimeException e) {
            List<DeviceRecord> l = new ArrayList<>();
            return l;
        }
    }

    private static void bundled(List<Candidate> out) {
        for (String b : dev.ublkctl.bpf.object.BpfObject.BUNDLED) out.add(new Candidate(b, b, "bundled programs", null, null, null, true));
    }

    static CommandSpec findSub(CommandSpec spec, String word) {
        if (word.startsWith("-")) return null;
        CommandLine exact = spec.subcommands().get(word);
        if (exact != null) return exact.getCommandSpec();
        CommandSpec found = null;
        for (Map.Entry<String, CommandLine> e : spec.subcommands().entrySet()) {
            if (e.getKey().startsWith(word)) {
                CommandSpec s = e.getValue().getCommandSpec();
                if (found != null && found != s) return null; // ambiguous
                found = s;
            }
        }
        return found;
    }

    /** Index of the positional being typed, skipping options and their values. */
    static int positionalIndex(CommandSpec spec, List<String> rest) {
        int n = 0;
        for (int i = 0; i < rest.size(); i++) {
            String w = rest.get(i);
            if (w.startsWith("-")) {
                OptionSpec o = spec.findOption(w.contains("=") ? w.substring(0, w.indexOf('=')) : w);
                if (o != null && !w.contains("=") && o.arity().max() > 0 && !o.typeInfo().isBoolean()) i++;
                continue;
            }
            n++;
        }
        return n;
    }

    static Integer deviceOf(List<String> rest) {
        for (int i = 0; i + 1 < rest.size(); i++) {
            if (rest.get(i).equals("-n") || rest.get(i).equals("--number")) {
                try { return Integer.parseInt(rest.get(i + 1)); } catch (NumberFormatException e) { return null; }
            }
        }
        return null;
    }
}
