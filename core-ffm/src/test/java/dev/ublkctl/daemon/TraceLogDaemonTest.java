package dev.ublkctl.daemon;

import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.target.TargetType;
import dev.ublkctl.ublk.Backend;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** A program's bpf_printk lines: every one in the device's ring (prog.trace), a few in the rate-limited log. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TraceLogDaemonTest {
    @TempDir Path tmp;

    @Test
    void printkLinesGoToTheRingAndRateLimitedToTheLog() throws Exception {
        Path obj = Path.of("..", "bpf-objects", "target", "classes", "bpf", "kublk", "kublk_loop.o").toAbsolutePath().normalize();
        if (!Files.isRegularFile(obj)) {
            System.out.println("SKIP: " + obj + " not built");
            Assumptions.abort(obj + " not built");
        }
        List<String> logged = new CopyOnWriteArrayList<>();
        DaemonLog log = new DaemonLog(new DaemonLog.Sink() {
            @Override public void write(String line) { logged.add(line); }
            @Override public long size() { return 0; }
            @Override public void rotate() { }
        });
        RunDir dir = new RunDir(tmp.resolve("run"), true);
        try (Daemon d = Daemon.withEngine(dir, log)) {
            assertTrue(d.start());
            // kublk_loop on a null device: fd_map stays empty, so every I/O prints "no fd" and fails
            d.add(new AddRequest(0, TargetType.NULL, 1, 8, 1 << 20, 512, List.of(), 0, obj.toString(), null,
                    Backend.EMULATED, true, 0, null, EngineKind.INTERP));
            try (DaemonClient c = DaemonClient.connect(dir)) {
                try {
                    VerifyView v = c.verify(0, new VerifyRequest(0, 64 << 10, 4096), Duration.ofSeconds(30), null);
                    assertFalse(v.ok(), "every I/O fails without fd_map");
                } catch (RpcException e) {
                    // the failed I/O reported as an error: what this device does
                }
                TraceView t = c.trace(0, 0);
                assertTrue(t.lines().size() > DaemonLog.BURST, "every line in the ring: " + t.lines().size());
                assertEquals("kublk_loop_queue: loop: no fd for device 0 in fd_map", t.lines().getFirst());
                assertEquals(t.lines().size(), t.next());
                TraceView more = c.trace(0, t.next());
                assertEquals(List.of(), more.lines(), "nothing new after next");
            }
            long inLog = logged.stream().filter(l -> l.contains("device 0 bpf_trace_printk: kublk_loop_queue: loop: no fd")).count();
            assertTrue(inLog >= 1 && inLog <= DaemonLog.BURST, "the log keeps " + DaemonLog.BURST + " per window: " + inLog);
            assertTrue(log.suppressed() > 0);
        }
    }
}
