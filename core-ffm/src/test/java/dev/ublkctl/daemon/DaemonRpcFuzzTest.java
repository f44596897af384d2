package dev.ublkctl.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ublkctl.bpf.testing.FuzzRounds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random JSON-RPC requests of the right shape with hostile values against a live daemon running the
 * real engine (emulated backend): every request gets one well-formed answer with a documented
 * error code, none is an internal error, nothing leaks descriptors, and the daemon answers at the end.
 * Seeded and counted; {@code -Dfuzz.seed=S} replays, {@code -Dfuzz.scale=N} goes deeper.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class DaemonRpcFuzzTest {
    @TempDir Path tmp;

    static final Set<Integer> DOCUMENTED = Set.of(RpcException.PARSE_ERROR, RpcException.INVALID_REQUEST,
            RpcException.METHOD_NOT_FOUND, RpcException.INVALID_PARAMS, RpcException.FAILED, RpcException.NOT_FOUND,
            RpcException.UNSUPPORTED, RpcException.EXISTS, RpcException.CANCELLED, RpcException.SHUTTING_DOWN);

    static final String[] METHODS = {"daemon.info", "device.list", "device.get", "device.add", "device.add", "device.add",
            "device.del", "device.delAll", "device.attach", "device.attach", "device.detach", "device.stats", "device.statsAll",
            "prog.show", "prog.dump", "map.list", "map.dump", "map.update", "device.bench", "device.verify", "no.such"};

    static int openFds() throws Exception { return fdTable().size(); }

    static java.util.Map<Integer, String> fdTable() throws Exception {
        java.util.Map<Integer, String> m = new java.util.TreeMap<>();
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : s.toList()) {
                try {
                    String t = Files.readSymbolicLink(p).toString();
                    // the JDK's own: virtual-thread pollers (epoll), made on first use; the listing's directory
                    if (t.equals("anon_inode:[eventpoll]") || t.startsWith("/proc/")) continue;
                    m.put(Integer.parseInt(p.getFileName().toString()), t);
                } catch (java.io.IOException gone) { /* closed meanwhile */ }
            }
        }
        return m;
    }

    @Test
    void hostileRequestsGetWellFormedAnswers() throws Exception {
        long seed = FuzzRounds.seed(0x5eed_2ec0L);
        System.out.println("DaemonRpcFuzzTest: seed " + seed + " (replay with -Dfuzz.seed=" + seed + ")");
        SplittableRandom rnd = new SplittableRandom(seed);
        Path[] files = new Path[4];
        for (int i = 0; i < files.length; i++) {
            files[i] = tmp.resolve("f" + i + ".img");
            try (RandomAccessFile f = new RandomAccessFile(files[i].toFile(), "rw")) { f.setLength(1 << 20); }
        }
        Path bpf = Path.of("..", "bpf-objects", "target", "classes", "bpf").toAbsolutePath().normalize();
        String[] programs = {"null", "loop", "stripe", bpf.resolve("null.o").toString(), bpf.resolve("loop.o") + ":16",
                bpf.resolve("stripe.o").toString(), "nope", tmp.resolve("f0.img").toString(), "", "null:99", ":"};
        String[] paths = {files[0].toString(), files[1].toString(), files[2].toString(), files[3].toString(),
                tmp.toString(), tmp.resolve("missing").toString(), "relative.img", "", "/dev/null"};
        RunDir dir = new RunDir(tmp.resolve("run"), true);
        Daemon d = Daemon.withEngine(dir, m -> { });
        assertTrue(d.start());
        var tableBefore = fdTable();
        int fdsBefore = tableBefore.size();
        int n = FuzzRounds.of(20_000), errors = 0, ok = 0;
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(dir.socket()));
            OutputStream out = Channels.newOutputStream(ch);
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            for (int i = 0; i < n; i++) {
                ObjectNode req = JsonNodeFactory.instance.objectNode();
                req.put("jsonrpc", "2.0");
                req.put("id", i);
                String method = METHODS[rnd.nextInt(METHODS.length)];
                req.put("method", method);
                ObjectNode p = req.putObject("params");
                // every field a method reads, each present or not, with a hostile or a sane value
                if (rnd.nextInt(8) != 0) putInt(p, "id", rnd, 4);
                if (rnd.nextInt(3) != 0) p.put("target", pick(rnd, "null", "loop", "stripe", "raid5", "", "NULL"));
                if (rnd.nextInt(3) == 0) p.putNull("target");
                if (rnd.nextBoolean()) putInt(p, "queues", rnd, 4);
                if (rnd.nextBoolean()) putInt(p, "depth", rnd, 64);
                if (rnd.nextBoolean()) p.put("size", pickLong(rnd, 0, -1, 4096, 1 << 20, 3 << 20, Long.MAX_VALUE, 12345));
                if (rnd.nextBoolean()) putInt(p, "blockSize", rnd, 4096);
                if (rnd.nextBoolean()) {
                    var a = p.putArray("files");
                    for (int k = rnd.nextInt(6); k > 0; k--) a.add(paths[rnd.nextInt(paths.length)]);
                }
                if (rnd.nextBoolean()) p.put("chunk", pickLong(rnd, 0, -4096, 4096, 3000, 1 << 20, 1L << 40));
                if (rnd.nextBoolean()) p.put("bpf", programs[rnd.nextInt(programs.length)]);
                p.put("backend", pick(rnd, "emulated", "emulated", "emulated", "auto", "kernel-bpf", "floppy"));
                if (rnd.nextBoolean()) putInt(p, "threads", rnd, 4);
                if (rnd.nextBoolean()) p.put("program", programs[rnd.nextInt(programs.length)]);
                if (rnd.nextBoolean()) p.put("name", pick(rnd, "qstats", "null_cfg", "loop_files", "stripe_cfg", "mix", "nope", ""));
                if (rnd.nextBoolean()) p.put("key", pick(rnd, "0", "1", "-1", "hex:00000000", "hex:zz", "99999999999", ""));
                if (rnd.nextBoolean()) p.put("value", pick(rnd, "0", "hex:" + "00".repeat(16), "hex:ff", "x", "hex:" + "ff".repeat(8)));
                // long-running methods get short, bounded work; the rest of their values stay hostile
                if (method.equals("device.bench")) {
                    p.put("rw", pick(rnd, "randread", "write", "randrw", "dance"));
                    p.put("bs", pickLong(rnd, 4096, 512, 0, -4096, 1 << 20));
                    putInt(p, "iodepth", rnd, 16);
                    putInt(p, "numjobs", rnd, 2);
                    p.put("runtime", rnd.nextInt(4) == 0 ? -1.0 : rnd.nextDouble() * 0.02);
                }
                if (method.equals("device.verify")) {
                    p.put("offset", pickLong(rnd, 0, 4096, -512, 1L << 50));
                    p.put("length", pickLong(rnd, 4096, 65536, 0, -1));
                    p.put("bs", pickLong(rnd, 4096, 512, 0, 1000));
                }
                out.write((req + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                JsonNode r;
                for (;;) {   // progress notifications come before the answer
                    String line = in.readLine();
                    assertNotNull(line, "request " + i + " (" + req + "): the daemon hung up, seed " + seed);
                    r = com.fasterxml.jackson.databind.json.JsonMapper.builder().build().readTree(line);
                    if (!r.has("id") && "progress".equals(r.path("method").asText())) continue;
                    break;
                }
                assertEquals(i, r.path("id").asInt(-1), "answer to request " + i + ": " + r);
                if (r.has("error")) {
                    errors++;
                    int code = r.at("/error/code").asInt();
                    String msg = r.at("/error/message").asText();
                    final JsonNode rr = r;
                    assertTrue(DOCUMENTED.contains(code), () -> "undocumented code in " + rr + " for " + req + ", seed " + seed);
                    assertFalse(msg.contains("NullPointerException") || msg.contains("ClassCastException") || msg.contains("Cannot invoke")
                                    || msg.contains("because \"") || msg.contains("Exception:")
                                    || msg.contains("IndexOutOfBounds") || msg.contains("ArithmeticException") || msg.isBlank(),
                            () -> "internal error leaked: " + rr + " for " + req + ", seed " + seed);
                } else {
                    ok++;
                    assertTrue(r.has("result"), r.toString());
                }
            }
        }
        try (DaemonClient c = DaemonClient.connect(dir)) {
            assertNotNull(c.info(), "the daemon answers after the run");
            c.deleteAll();
        }
        d.close();
        // connections close on their own threads once the client has gone: give them a moment
        long until = System.nanoTime() + 5_000_000_000L;
        while (openFds() > fdsBefore && System.nanoTime() < until) Thread.sleep(50);
        int fdsAfter = openFds();
        System.out.println("DaemonRpcFuzzTest: " + n + " requests, " + ok + " succeeded, " + errors + " refused with documented errors; "
                + "descriptors " + fdsBefore + " -> " + fdsAfter);
        var tableAfter = fdTable();
        tableAfter.entrySet().removeIf(e -> e.getValue().equals(tableBefore.get(e.getKey())));
        assertTrue(fdsAfter <= fdsBefore, "descriptors leaked: " + fdsBefore + " -> " + fdsAfter + ": " + tableAfter);
        assertTrue(ok > n / 20, "enough requests succeed to reach deep paths: " + ok);
    }

    static void putInt(ObjectNode p, String name, SplittableRandom rnd, int sane) {
        switch (rnd.nextInt(6)) {
            case 0 -> p.put(name, -1);
            case 1 -> p.put(name, Integer.MAX_VALUE);
            case 2 -> p.put(name, "seven");
            case 3 -> p.putNull(name);
            default -> p.put(name, rnd.nextInt(sane + 1));
        }
    }

    static String pick(SplittableRandom rnd, String... v) { return v[rnd.nextInt(v.length)]; }

    static long pickLong(SplittableRandom rnd, long... v) { return v[rnd.nextInt(v.length)]; }
}
