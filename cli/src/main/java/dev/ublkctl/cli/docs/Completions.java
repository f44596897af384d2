package dev.ublkctl.cli.docs;

import dev.ublkctl.cli.Cli;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes bash ({@code ublkctl.bash}) and zsh ({@code _ublkctl}) completion scripts from the
 * picocli model: verbs, subverbs and options as tables; option values and device ids
 * through {@code ublkctl __complete KIND}, which reads file names only and stays fast.
 */
public final class Completions {
    private Completions() {}

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "completions/target/completions");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("ublkctl.bash"), bash(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("_ublkctl"), zsh(), StandardCharsets.UTF_8);
        System.out.println("wrote ublkctl.bash and _ublkctl to " + dir);
    }

    /** Per command path ("" = top, "prog", "prog show"): subverbs, all options, options taking a value, positional kind. */
    record Node(String path, List<String> subs, List<String> options, List<String> valueOptions, String positional) { }

    static List<Node> nodes() {
        List<Node> out = new ArrayList<>();
        walk(Cli.commandLine(), "", out);
        return out;
    }

    private static void walk(CommandLine cl, String path, List<Node> out) {
        CommandSpec spec = cl.getCommandSpec();
        List<String> subs = new ArrayList<>();
        Map<String, CommandLine> children = new LinkedHashMap<>();
        for (var e : cl.getSubcommands().entrySet()) {
            if (e.getValue().getCommandSpec().usageMessage().hidden()) continue;
            subs.add(e.getKey()); // names and aliases both complete and both walk
            children.put(e.getKey(), e.getValue());
        }
        List<String> opts = new ArrayList<>();
        List<String> valueOpts = new ArrayList<>();
        for (OptionSpec o : spec.options()) {
            if (o.hidden()) continue;
            for (String n : o.names()) {
                opts.add(n);
                if (o.arity().max() > 0 && !o.typeInfo().isBoolean()) valueOpts.add(n);
            }
        }
        String positional = "";
        for (var p : spec.positionalParameters()) {
            if (p.paramLabel().contains(".o") || p.paramLabel().contains("FILE")) positional = "files";
        }
        out.add(new Node(path, subs, opts, valueOpts, positional));
        for (var e : children.entrySet()) walk(e.getValue(), path.isEmpty() ? e.getKey() : path + " " + e.getKey(), out);
    }

    /** How the value of an option completes: a __complete kind, "files", or "" (nothing). */
    static String valueKind(String option) {
        return switch (option) {
            case "-n", "--number" -> "devices";
            case "-t", "--type" -> "targets";
            case "--backend" -> "backends";
            case "--rw" -> "patterns";
            case "--bpf" -> "programs+files";
            case "-f", "--file", "--history", "--data-in", "--data-out" -> "files";
            default -> "";
        };
    }

    static String bash() {
        List<Node> nodes = nodes();
        StringBuilder s = new StringBuilder();
        s.append("# bash completion for ublkctl, generated from the picocli model (dev.ublkctl.cli.docs.Completions).\n");
        s.append("# Install: source this file, or copy it to /usr/share/bash-completion/completions/ublkctl\n\n");
        s.append("declare -A _ublkctl_subs=(\n");
        for (Node n : nodes) s.append("  [\"").append(key(n)).append("\"]=\"").append(String.join(" ", n.subs())).append("\"\n");
        s.append(")\ndeclare -A _ublkctl_opts=(\n");
        for (Node n : nodes) s.append("  [\"").append(key(n)).append("\"]=\"").append(String.join(" ", n.options())).append("\"\n");
        s.append(")\ndeclare -A _ublkctl_valopts=(\n");
        for (Node n : nodes) s.append("  [\"").append(key(n)).append("\"]=\" ").append(String.join(" ", n.valueOptions())).append(" \"\n");
        s.append(")\ndeclare -A _ublkctl_pos=(\n");
        for (Node n : nodes) s.append("  [\"").append(key(n)).append("\"]=\"").append(n.positional()).append("\"\n");
        s.append(")\n\n");
        s.append("""
                _ublkctl_values() {
                  local kind="$1" cur="$2"
                  case "$kind" in
                    files) COMPREPLY=( $(compgen -f -- "$cur") ) ;;
                    programs+files) COMPREPLY=( $(compgen -W "$(${COMP_WORDS[0]} __complete programs 2>/dev/null)" -- "$cur") $(compgen -f -- "$cur") ) ;;
                    "") COMPREPLY=() ;;
                    *) COMPREPLY=( $(compgen -W "$(${COMP_WORDS[0]} __complete "$kind" 2>/dev/null)" -- "$cur") ) ;;
                  esac
                }

                _ublkctl() {
                  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
                  local path="_" i w skip=0
                  for ((i = 1; i < COMP_CWORD; i++)); do
                    w="${COMP_WORDS[i]}"
                    if ((skip)); then skip=0; continue; fi
                    case "$w" in
                      -*=*) continue ;;
                      -*) [[ "${_ublkctl_valopts[$path]}" == *" $w "* ]] && skip=1; continue ;;
                    esac
                    local next
                    if [[ "$path" == "_" ]]; then next="$w"; else next="$path $w"; fi
                    [[ -n "${_ublkctl_subs[$next]+x}" ]] && path="$next"
                  done
                  if [[ "${_ublkctl_valopts[$path]}" == *" $prev "* ]]; then
                    _ublkctl_values "$(_ublkctl_kind "$prev")" "$cur"
                    return 0
                  fi
                  if [[ "$cur" == -* ]]; then
                    COMPREPLY=( $(compgen -W "${_ublkctl_opts[$path]}" -- "$cur") )
                  elif [[ -n "${_ublkctl_subs[$path]}" ]]; then
                    COMPREPLY=( $(compgen -W "${_ublkctl_subs[$path]}" -- "$cur") )
                  elif [[ -n "${_ublkctl_pos[$path]}" ]]; then
                    _ublkctl_values "${_ublkctl_pos[$path]}" "$cur"
                  fi
                  return 0
                }

                """);
        s.append(kindFunction("_ublkctl_kind() {\n  case \"$1\" in\n", "  esac\n}\n"));
        s.append("\ncomplete -o default -o bashdefault -F _ublkctl ublkctl\n");
        return s.toString();
    }

    static String zsh() {
        List<Node> nodes = nodes();
        StringBuilder s = new StringBuilder();
        s.append("#compdef ublkctl\n");
        s.append("# zsh completion for ublkctl, generated from the picocli model (dev.ublkctl.cli.docs.Completions).\n");
        s.append("# Install: copy to a directory in $fpath (e.g. /usr/local/share/zsh/site-functions/_ublkctl), or source it.\n\n");
        s.append("typeset -gA _ublkctl_subs _ublkctl_opts _ublkctl_valopts _ublkctl_pos\n");
        for (Node n : nodes) {
            String k = key(n);
            s.append("_ublkctl_subs[\"").append(k).append("\"]=\"").append(String.join(" ", n.subs())).append("\"\n");
            s.append("_ublkctl_opts[\"").append(k).append("\"]=\"").append(String.join(" ", n.options())).append("\"\n");
            s.append("_ublkctl_valopts[\"").append(k).append("\"]=\" ").append(String.join(" ", n.valueOptions())).append(" \"\n");
            s.append("_ublkctl_pos[\"").append(k).append("\"]=\"").append(n.positional()).append("\"\n");
        }
        s.append("\n");
        s.append(kindFunction("_ublkctl_kind() {\n  case \"$1\" in\n", "  esac\n}\n"));
        s.append("""

                _ublkctl_values() {
                  local kind=$1
                  case $kind in
                    files) _files ;;
                    programs+files) compadd -- ${(f)"$(${words[1]} __complete programs 2>/dev/null)"}; _files ;;
                    '') ;;
                    *) compadd -- ${(f)"$(${words[1]} __complete $kind 2>/dev/null)"} ;;
                  esac
                }

                _ublkctl() {
                  local cur=${words[CURRENT]} prev=${words[CURRENT-1]}
                  local path=_ i w skip=0 next
                  for (( i = 2; i < CURRENT; i++ )); do
                    w=${words[i]}
                    if (( skip )); then skip=0; continue; fi
                    case $w in
                      -*=*) continue ;;
                      -*) [[ ${_ublkctl_valopts[$path]} == *" $w "* ]] && skip=1; continue ;;
                    esac
                    if [[ $path == _ ]]; then next=$w; else next="$path $w"; fi
                    (( ${+_ublkctl_subs[$next]} )) && path=$next
                  done
                  if [[ ${_ublkctl_valopts[$path]} == *" $prev "* ]]; then
                    _ublkctl_values "$(_ublkctl_kind $prev)"
                  elif [[ $cur == -* ]]; then
                    compadd -- ${=_ublkctl_opts[$path]}
                  elif [[ -n ${_ublkctl_subs[$path]} ]]; then
                    compadd -- ${=_ublkctl_subs[$path]}
                  elif [[ -n ${_ublkctl_pos[$path]} ]]; then
                    _ublkctl_values ${_ublkctl_pos[$path]}
                  fi
                }

                if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
                  _ublkctl "$@"
                else
                  compdef _ublkctl ublkctl
                fi
                """);
        return s.toString();
    }

    private static String kindFunction(String head, String tail) {
        StringBuilder s = new StringBuilder(head);
        Map<String, List<String>> byKind = new LinkedHashMap<>();
        for (Node n : nodes()) for (String o : n.valueOptions()) {
            String k = valueKind(o);
            if (k.isEmpty()) continue;
            var l = byKind.computeIfAbsent(k, x -> new ArrayList<>());
            if (!l.contains(o)) l.add(o);
        }
        for (var e : byKind.entrySet()) s.append("    ").append(String.join("|", e.getValue())).append(") echo '").append(e.getKey()).append("' ;;\n");
        s.append("    *) echo '' ;;\n");
        s.append(tail);
        return s.toString();
    }

    private static String key(Node n) { return n.path().isEmpty() ? "_" : n.path(); }
}
