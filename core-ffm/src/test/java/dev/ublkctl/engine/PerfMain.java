package dev.ublkctl.engine;

import dev.ublkctl.engine.load.BenchResult;
import dev.ublkctl.engine.stats.QueueStats;
import dev.ublkctl.engine.load.Bench;
import dev.ublkctl.engine.load.BenchSpec;
import dev.ublkctl.engine.load.Pattern;
import dev.ublkctl.engine.stats.StatsRecorder;

import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.target.TargetConfig;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Manual benchmark (not a test): null device, one queue, depth 128, 4 KiB randread, with and without
 * the BPF null program. Run: {@code java --enable-native-access=ALL-UNNAMED -cp core-ffm/target/classes:core-ffm/target/test-classes
 * dev.ublkctl.engine.PerfMain [seconds] [bpf-objects dir]}.
 */
public final class PerfMain {
    /** Cost of the per-I/O statistics (started + completed with a latency record), single writer. */
    static void statsOverhead() {
        StatsRecorder r = new StatsRecorder(0);
        long sink = 0;
        for (int round = 0; round < 3; round++) {
            int n = 20_000_000;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                r.started();
                r.completed(i & 1, 4096, 4096, 100 + (i & 1023));
            }
            long dt = System.nanoTime() - t0;
            sink += r.snapshot().ios();
            System.out.printf("stats: %.1f ns per I/O (started + completed + latency)%n", (double) dt / n);
        }
        System.out.println("(" + sink + " I/Os counted)");
    }

    public static void main(String[] args) throws Exception {
        statsOverhead();
        int secs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Path obj = Path.of(args.length > 1 ? args[1] : "bpf-objects/target/classes/bpf").resolve("null.o");
        BenchSpec spec = BenchSpec.of(Pattern.RANDREAD).withIoDepth(128).withRuntime(Duration.ofSeconds(secs));
        for (String mode : new String[]{"bpf", "server"}) {
            try (Engine e = Engine.emulated()) {
                Device d = e.create(DeviceConfig.of(new TargetConfig.Null()).withQueues(1).withDepth(128));
                if (mode.equals("bpf")) d.attach(UblkProgram.load(BpfObject.load(obj), OpsRef.id(0)));
                d.start();
                Bench.run(d, spec.withRuntime(Duration.ofSeconds(1)), null); // warm-up
                BenchResult r = Bench.run(d, spec, null);
                System.out.println("== " + mode + " (" + (mode.equals("bpf") ? d.program().orElseThrow().engineName() : "java null target") + ")");
                System.out.println(r.summary());
                QueueStats s = d.stats().total();
                if (s.progRuns() > 0) System.out.printf("  program: %d runs, %.0f ns/run%n", s.progRuns(), (double) s.progRunNanos() / s.progRuns());
                System.out.printf("  service latency p50 %d ns, p99 %d ns%n", s.latency().p50(), s.latency().p99());
            }
        }
    }
}
