package dev.ublkctl.cli.common;

import com.fasterxml.jackson.databind.ObjectWriter;
import dev.ublkctl.daemon.DaemonClient;
import dev.ublkctl.daemon.Json;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** Base of every command: the global options, output helpers, the session. */
public abstract class Cmd implements Callable<Integer> {

    @Mixin
    public Globals globals = new Globals();

    @Spec
    public CommandSpec spec;

    @Override
    public final Integer call() throws Exception {
        return run();
    }

    /** The command's work; returns the exit code. */
    protected abstract int run() throws Exception;

    protected PrintWriter out() { return spec.commandLine().getOut(); }
    protected PrintWriter err() { return spec.commandLine().getErr(); }
    protected Session session() { return Session.current(); }
    protected Style style() { return Style.detect(globals.noColor); }
    protected boolean json() { return globals.json(); }
    protected DaemonClient connect() { return session().connect(); }

    /** Prints a value as JSON (one line, or indented with --pretty). */
    protected void printJson(Object value) {
        try {
            ObjectWriter w = globals.pretty ? Json.mapper().writerWithDefaultPrettyPrinter() : Json.mapper().writer();
            out().println(w.writeValueAsString(value));
            out().flush();
        } catch (java.io.IOException e) {
            throw new CliException(ExitCode.ERROR, "cannot write JSON: " + e.getMessage());
        }
    }

    /** A note on stderr (progress, hints), kept out of stdout so pipes get data only. */
    protected void note(String s) {
        err().println(s);
        err().flush();
    }
}
