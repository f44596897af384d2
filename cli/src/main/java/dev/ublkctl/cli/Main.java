package dev.ublkctl.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * The ublkctl entry point. {@code __complete} is answered before picocli is even loaded:
 * shells call it on every TAB.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("__complete")) {
            System.exit(FastComplete.run(args));
        }
        var out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        var err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        int code = Cli.execute(args, out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }
}
