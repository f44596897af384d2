package dev.ublkctl.tui.testing;

import dev.ublkctl.daemon.AddRequest;
import dev.ublkctl.daemon.Daemon;
import dev.ublkctl.daemon.RunDir;

import java.util.List;

/**
 * For looking at the monitor by hand: a real daemon (run dir from UBLKCTL_RUN_DIR) with
 * synthetic devices, until killed. Args: number of devices, queues each.
 */
public final class SyntheticDaemonMain {
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 3, q = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        Daemon d = new Daemon(RunDir.resolve(), new SyntheticDevices(), System.out::println);
        if (!d.start()) throw new IllegalStateException("another daemon runs there");
        String[] t = {"null", "loop", "stripe"};
        for (int i = 0; i < n; i++) {
            d.add(new AddRequest(-1, t[i % 3], q, 64, 1L << 30, 512, List.of(), 0, t[i % 3], "emulated", false));
        }
        d.awaitStop();
    }
}
