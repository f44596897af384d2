package dev.ublkctl.cli.common;

import picocli.CommandLine;

import java.io.PrintWriter;

/**
 * The whole command tree as a command that runs other commands (the shell) needs it: a fresh
 * model for completion and one line run as {@code ublkctl} would run it. {@code Cli} provides
 * it through the root command, so a command never reaches up to the package that builds the tree.
 */
public interface CommandTree {
    /** A freshly configured command line of every command. */
    CommandLine commandLine();

    /** Runs one command line with these streams; returns its exit code. */
    int execute(String[] args, PrintWriter out, PrintWriter err);
}
