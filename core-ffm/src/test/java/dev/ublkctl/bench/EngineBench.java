package dev.ublkctl.bench;

import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.engine.OpsRef;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.engine.load.Bench;
import dev.ublkctl.engine.load.BenchResult;
import dev.ublkctl.engine.load.BenchSpec;
import dev.ublkctl.engine.Device;
import dev.ublkctl.engine.DeviceConfig;
import dev.ublkctl.engine.Engine;
import dev.ublkctl.engine.load.Pattern;
import dev.ublkctl.engine.stats.QueueStats;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.engine.UblkProgram;
import dev.ublkctl.target.TargetConfig;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Engine paths side by side in one JVM (issue 4): null device on the emulated driver, one queue,
 * depth 128, 4 KiB randread at iodepth 128, one job:
 * <ul>
 *   <li>{@code queued}: null.o {@code null_ops} (id 0), every I/O completed in BPF (QUEUED);</li>
 *   <li>{@code redirect}: null.o {@code null_redirect_ops} (id 2) with {@code null_cfg.redirect_ops} =
 *       READ, every read sent to the Java null target (REDIRECT);</li>
 *   <li>{@code none}: no program, the Java null target.</li>
 * </ul>
 * Modes run in the order given, each after a 2 s warm-up on its own device; rounds repeat the whole
 * sequence so drift on a shared machine shows. {@code cpuNsPerIo} is the process's CPU time
 * (all threads, spinning included) over the measured run divided by its I/Os. Not a test; run by {@code scripts/bench-engine}.
 *
 * Modes run the program on the JIT; {@code queued-interp} and {@code redirect-interp} on the interpreter.
 *
 * <p>Arguments: SECONDS [BPF_DIR=bpf-objects/target/classes/bpf] [ROUNDS=1] [MODES=queued,redirect,none].
 */
public final class EngineBench {
    /** CPU time of the whole process (all threads): with the machine shared, CPU per I/O moves less than IOPS. */
    private static long processCpuNanos() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : 0;
    }

    public static void main(String[] args) throws Exception {
        int secs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Path obj = Path.of(args.length > 1 ? args[1] : "bpf-objects/target/classes/bpf").resolve("null.o");
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        List<String> modes = List.of((args.length > 3 ? args[3] : "queued,redirect,none").split(","));
        BenchSpec spec = BenchSpec.of(Pattern.RANDREAD).withBlockSize(4096).withIoDepth(128).withNumJobs(1)
                .withRuntime(Duration.ofSeconds(secs));
        for (int round = 1; round <= rounds; round++) {
            for (String mode : modes) {
                try (Engine e = Engine.emulated()) {
                    Device d = e.create(DeviceConfig.of(new TargetConfig.Null()).withQueues(1).withDepth(128));
                    // MODE or MODE-interp: the program on the JIT (default) or on the interpreter
                    EngineKind kind = mode.endsWith("-interp") ? EngineKind.INTERP : EngineKind.JIT;
                    switch (mode.replace("-interp", "")) {
                        case "queued" -> d.attach(UblkProgram.load(BpfObject.load(obj), OpsRef.id(0), kind.create()));
                        case "redirect" -> {
                            UblkProgram p = UblkProgram.load(BpfObject.load(obj), OpsRef.id(2), kind.create());
                            // struct null_config {split_bytes, redirect_ops, redirect_modulo, pad}: redirect READ (op 0)
                            byte[] cfg = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(0).putInt(1).putInt(0).putInt(0).array();
                            p.map("null_cfg").orElseThrow().update(new byte[4], cfg, 0);
                            d.attach(p);
                        }
                        case "none" -> { }
                        default -> throw new IllegalArgumentException("mode " + mode + ": queued, redirect (each with -interp) or none");
                    }
                    d.start();
                    Bench.run(d, spec.withRuntime(Duration.ofSeconds(2)), null); // warm-up: JIT, caches
                    var before = d.stats();
                    long cpu0 = processCpuNanos();
                    BenchResult r = Bench.run(d, spec, null);
                    long cpu = processCpuNanos() - cpu0;
                    QueueStats s = d.stats().minus(before).total();
                    double runNs = s.progRuns() > 0 ? (double) s.progRunNanos() / s.progRuns() : 0;
                    System.out.printf("round %d mode=%-15s iops=%.0f ios=%d errors=%d bpfHandled=%d redirected=%d progRuns=%d progNsPerRun=%.0f "
                                    + "serviceP50ns=%d clatP50us=%.2f clatP99us=%.2f cpuNsPerIo=%.0f%n",
                            round, mode, r.iops(), r.ios(), r.errors(), r.bpfHandled(), r.redirected(), s.progRuns(), runNs,
                            s.latency().p50(), r.latency().p50() / 1000.0, r.latency().p99() / 1000.0,
                            r.ios() > 0 ? (double) cpu / r.ios() : 0);
                }
            }
        }
    }
}
