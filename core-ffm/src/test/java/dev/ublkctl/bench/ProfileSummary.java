package dev.ublkctl.bench;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where the I/O threads' time goes, from a JFR recording ({@code jdk.ExecutionSample} and
 * {@code jdk.NativeMethodSample}): only threads named {@code ublk-*} (queue threads) and
 * {@code bench-*} (submitters), so JFR's own threads and start-up do not dilute it. Prints samples per
 * thread, the share of samples in each part of the data path (the innermost ublkctl frame decides),
 * and the top methods by self samples.
 *
 * <p>Arguments: RECORDING.jfr [top=12].
 */
public final class ProfileSummary {
    /** Parts of the data path, by a frame's class name prefix (first match wins per frame). */
    static final Map<String, String> PARTS = new LinkedHashMap<>();
    static {
        PARTS.put("dev.ublkctl.bpf.vm.", "eBPF VM (interpreter, helpers, maps)");
        PARTS.put("dev.ublkctl.bpf.maps.", "eBPF VM (interpreter, helpers, maps)");
        PARTS.put("dev.ublkctl.engine.UblkKfuncs", "ublk kfuncs");
        PARTS.put("dev.ublkctl.engine.BpfQueue", "engine BPF dispatch (BpfQueue)");
        PARTS.put("dev.ublkctl.engine.stats.StatsRecorder", "statistics and latency");
        PARTS.put("dev.ublkctl.engine.stats.LatencyRecorder", "statistics and latency");
        PARTS.put("dev.ublkctl.target.", "Java target");
        PARTS.put("dev.ublkctl.ublk.emulated.", "emulated driver (queues, tags, copy)");
        PARTS.put("dev.ublkctl.engine.load.Bench", "bench job (submit, callback)");
        PARTS.put("java.util.concurrent.locks.LockSupport", "thread hand-off (park/unpark)");
        PARTS.put("dev.ublkctl.sys.Libc", "syscalls (io_uring_enter, eventfd)");
        PARTS.put("dev.ublkctl.uring.", "io_uring ring handling");
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int top = args.length > 1 ? Integer.parseInt(args[1]) : 12;
        Map<String, Integer> perThread = new TreeMap<>(), self = new HashMap<>(), part = new HashMap<>();
        int total = 0, nativeSamples = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            String type = e.getEventType().getName();
            boolean isNative = type.equals("jdk.NativeMethodSample");
            if (!isNative && !type.equals("jdk.ExecutionSample")) continue;
            String thread = e.getThread("sampledThread") == null ? "?" : e.getThread("sampledThread").getJavaName();
            if (thread == null || !(thread.startsWith("ublk-") || thread.startsWith("bench-"))) continue;
            RecordedStackTrace st = e.getStackTrace();
            if (st == null || st.getFrames().isEmpty()) continue;
            total++;
            if (isNative) nativeSamples++;
            perThread.merge(thread + (isNative ? " (in native code)" : " (running Java)"), 1, Integer::sum);
            List<RecordedFrame> frames = st.getFrames();
            self.merge(leafName(frames) + (isNative ? " [native]" : ""), 1, Integer::sum);
            // the innermost frame that belongs to a part names the sample's part (shares add up to 100 %)
            String where = "other (JDK, JIT, GC)";
            outer:
            for (RecordedFrame f : frames) {
                String cls = f.getMethod().getType().getName();
                for (var p : PARTS.entrySet()) {
                    if (cls.startsWith(p.getKey())) {
                        where = p.getValue();
                        break outer;
                    }
                }
            }
            part.merge(where, 1, Integer::sum);
        }
        if (total == 0) {
            System.out.println("profile: no samples of ublk-*/bench-* threads in " + file);
            return;
        }
        System.out.printf("profile %s: %d samples of the I/O threads (%d of them in native code)%n", file.getFileName(), total, nativeSamples);
        for (var t : perThread.entrySet()) System.out.printf("  %-40s %5d%n", t.getKey(), t.getValue());
        System.out.println("  by part of the data path (innermost ublkctl frame):");
        int n = total;
        part.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue())
                .forEach(p -> System.out.printf("    %5.1f%%  %s%n", 100.0 * p.getValue() / n, p.getKey()));
        System.out.println("  top methods by self samples:");
        self.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(top)
                .forEach(s -> System.out.printf("    %5.1f%%  %s%n", 100.0 * s.getValue() / n, s.getKey()));
    }

    /** The leaf method; a downcall stub or lambda form (hidden class) is named by its first real caller. */
    static String leafName(List<RecordedFrame> frames) {
        String stub = "";
        for (RecordedFrame f : frames) {
            String cls = f.getMethod().getType().getName();
            if (cls.contains("0x") || cls.contains("LambdaForm$") || cls.contains("$$Lambda") || cls.startsWith("java.lang.invoke.")) {
                if (stub.isEmpty()) stub = " (via downcall/lambda)";
                continue;
            }
            return cls.substring(cls.lastIndexOf('.') + 1) + "." + f.getMethod().getName() + stub;
        }
        return "?";
    }
}
