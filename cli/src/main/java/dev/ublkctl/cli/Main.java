package dev.ublkctl.cli;

import dev.ublkctl.cli.common.ListView;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * The ublkctl entry point. {@code __complete} (shells call it on every TAB) and plain
 * {@code list} are answered before picocli is even loaded: start-up time is most of their cost.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("__complete")) {
            System.exit(FastComplete.run(args));
        }
        // Plain 'list' is the command people and scripts run most: answer it without picocli.
        Integer fast = ListView.fast(args);
        if (fast != null) System.exit(fast);
        var out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        var err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        int code = Cli.execute(args, out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }
}
