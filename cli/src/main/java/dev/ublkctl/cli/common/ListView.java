package dev.ublkctl.cli.common;

import dev.ublkctl.daemon.DeviceRecord;
import dev.ublkctl.daemon.DeviceRecords;
import dev.ublkctl.daemon.Json;
import dev.ublkctl.daemon.RunDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;

/**
 * What {@code ublkctl list} prints, shared by the picocli command and {@link Main}'s fast path
 * (which answers plain {@code list} invocations without loading picocli or jackson-databind).
 */
public final class ListView {
    private ListView() {}

    /** @throws CliException not found (exit 3) for a missing {@code id} */
    public static int print(RunDir dir, Integer id, boolean verbose, boolean json, boolean pretty, Style st,
                            PrintWriter out, PrintWriter err) {
        DeviceRecords store = new DeviceRecords(dir);
        List<DeviceRecord> recs;
        if (id != null) {
            recs = store.read(id).map(List::of).orElseThrow(() -> new CliException(ExitCode.NOT_FOUND, "no device " + id));
        } else {
            recs = store.readAll();
        }
        if (json || pretty) {
            try {
                var w = pretty ? Json.mapper().writerWithDefaultPrettyPrinter() : Json.mapper().writer();
                out.println(w.writeValueAsString(id != null ? recs.getFirst() : recs));
            } catch (IOException e) {
                throw new CliException(ExitCode.ERROR, "cannot write JSON: " + e.getMessage());
            }
            out.flush();
            return ExitCode.OK;
        }
        if (recs.isEmpty()) {
            out.println("no devices");
            out.flush();
            return ExitCode.OK;
        }
        // the EXPORT column only when some device is exported: the usual table stays as narrow as it was
        boolean exports = recs.stream().anyMatch(r -> r.export() != null);
        Table t = verbose
                ? new Table("ID", "STATE", "TARGET", "BACKEND", "SIZE", "BS", "QUEUES", "DEPTH", "PROGRAM", "ENGINE", "FILES", "FDS", "PID", "CREATED", "EXPORT").right(0, 4, 5, 6, 7, 12)
                : exports
                ? new Table("ID", "STATE", "TARGET", "BACKEND", "SIZE", "QUEUES", "DEPTH", "PROGRAM", "EXPORT").right(0, 4, 5, 6)
                : new Table("ID", "STATE", "TARGET", "BACKEND", "SIZE", "QUEUES", "DEPTH", "PROGRAM").right(0, 4, 5, 6);
        for (DeviceRecord r : recs) {
            String prog = r.program() == null ? "-" : r.program();
            // the human table says which dead devices 'recover' can bring back (JSON: the recoverable field)
            String state = DeviceRecord.DEAD.equals(r.state()) && r.recoverable() ? "dead, recoverable" : r.state();
            if (verbose) {
                t.row(r.id(), state, r.target(), r.backend(), Sizes.format(r.size()), r.blockSize(), r.queues(),
                        r.depth(), r.programPath() == null ? prog : prog + " (" + r.programPath() + ")", r.engine(),
                        r.files().isEmpty() ? "-" : String.join(",", r.files()),
                        r.fds().isEmpty() ? "-" : String.join(",", r.fds().stream().map(String::valueOf).toList()),
                        r.daemonPid(), r.created(), exportText(r));
            } else if (exports) {
                t.row(r.id(), state, r.target(), r.backend(), Sizes.format(r.size()), r.queues(), r.depth(), prog, exportText(r));
            } else {
                t.row(r.id(), state, r.target(), r.backend(), Sizes.format(r.size()), r.queues(), r.depth(), prog);
            }
        }
        t.print(out, st);
        for (DeviceRecord r : recs) {
            if (r.problem() != null) err.println("device " + r.id() + ": " + TerminalText.safe(r.problem())
                    + (r.isBroken() ? " ('ublkctl del -n " + r.id() + "' removes it)" : ""));
        }
        if (recs.stream().anyMatch(r -> DeviceRecord.DEAD.equals(r.state()))) {
            boolean recoverable = recs.stream().anyMatch(r -> DeviceRecord.DEAD.equals(r.state()) && r.recoverable());
            err.println("some devices' daemon died; 'ublkctl del -n ID' removes them"
                    + (recoverable ? ", 'ublkctl recover -n ID' serves a recoverable kernel device again" : ""));
            err.flush();
        }
        return ExitCode.OK;
    }

    private static String exportText(DeviceRecord r) {
        if (r.export() == null) return "-";
        return r.export().uri() + (r.export().readOnly() ? " (ro)" : "");
    }

    /**
     * The fast path: handles {@code list|ls [-v] [-n ID] [--json] [--pretty] [--no-color] [--debug]}
     * and returns the exit code, or null when the arguments need the full command line parser.
     */
    public static Integer fast(String[] args) {
        if (args.length == 0 || !(args[0].equals("list") || args[0].equals("ls"))) return null;
        Integer id = null;
        boolean verbose = false, json = false, pretty = false, noColor = false;
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            String val = null;
            switch (a) {
                case "-v", "--verbose" -> verbose = true;
                case "--json" -> json = true;
                case "--pretty" -> pretty = true;
                case "--no-color" -> noColor = true;
                case "--debug" -> { }
                case "-n", "--number" -> {
                    if (i + 1 >= args.length) return null;
                    val = args[++i];
                }
                default -> {
                    if (a.startsWith("--number=")) val = a.substring(9);
                    else if (a.startsWith("-n") && a.length() > 2) val = a.substring(2);
                    else return null;
                }
            }
            if (val != null) {
                try { id = Integer.parseInt(val); } catch (NumberFormatException e) { return null; }
            }
        }
        var out = new PrintWriter(System.out, false, java.nio.charset.StandardCharsets.UTF_8);
        var err = new PrintWriter(System.err, false, java.nio.charset.StandardCharsets.UTF_8);
        try {
            return print(RunDir.resolve(), id, verbose, json, pretty, Style.detect(noColor), out, err);
        } catch (CliException e) {
            err.println("ublkctl list: " + TerminalText.safe(e.getMessage()));
            return e.exitCode();
        } catch (RuntimeException e) {
            err.println("ublkctl list: " + TerminalText.safe(e.getMessage() == null ? e.toString() : e.getMessage()));
            return ExitCode.ERROR;
        } finally {
            out.flush();
            err.flush();
        }
    }
}
