package dev.ublkctl.cli.common;

import picocli.CommandLine.Option;

/** Options every command has. */
public final class Globals {
    @Option(names = "--json", description = "Print JSON (stable field names) instead of text.")
    public boolean json;

    @Option(names = "--pretty", description = "Indent the JSON output (implies --json).")
    public boolean pretty;

    @Option(names = "--debug", description = "Show stack traces and daemon details on errors.")
    public boolean debug;

    @Option(names = "--no-color", description = "No colors (also when NO_COLOR is set or output is not a terminal).")
    public boolean noColor;

    public boolean json() { return json || pretty; }
}
