package dev.ublkctl.tui.testing;

import dev.ublkctl.daemon.AddRequest;
import dev.ublkctl.daemon.BenchRequest;
import dev.ublkctl.daemon.DeviceRecord;
import dev.ublkctl.daemon.HostedDevice;
import dev.ublkctl.daemon.RpcException;
import dev.ublkctl.daemon.RpcServer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A device factory for a real {@link dev.ublkctl.daemon.Daemon} in tests of the monitor's RPC path:
 * the daemon, socket, JSON-RPC and client are the real ones; the device's counters advance by a
 * fixed step per stats call (in the engine's JSON shape), so the test knows what to expect.
 */
public final class SyntheticDevices implements HostedDevice.Factory {

    @Override
    public HostedDevice create(int id, AddRequest req, DeviceRecord base) {
        return new Dev(base.withProgram(req.bpf(), req.bpf(), req.bpf()), Math.max(1, req.queues()));
    }

    static final class Dev implements HostedDevice {
        final DeviceRecord rec;
        final int queues;
        final AtomicLong calls = new AtomicLong();

        Dev(DeviceRecord rec, int queues) {
            this.rec = rec;
            this.queues = queues;
        }

        @Override public DeviceRecord record() { return rec; }

        /** Each call: +1000 reads of 4 KiB per queue, 3 of 4 parts handled in BPF, 10 us each. */
        @Override public Object stats() {
            long n = calls.incrementAndGet() * 1000;
            List<Object> qs = new ArrayList<>();
            for (int q = 0; q < queues; q++) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("queue", q);
                m.put("ops", Map.of("READ", Map.of("ios", n, "bytes", n * 4096)));
                m.put("bpfHandled", n * 3 / 4);
                m.put("redirected", n / 4);
                m.put("splitParts", 0);
                m.put("errors", Map.of());
                m.put("inFlight", 2);
                m.put("latency", Map.of("buckets", List.of(Map.of("le", 10_000, "count", n))));
                m.put("progRuns", n);
                m.put("progRunNanos", n * 250);
                qs.add(m);
            }
            return Map.of("devId", rec.id(), "queues", qs);
        }

        @Override public Object program() { return rec.program() == null ? null : Map.of("name", rec.program()); }
        @Override public Object dumpProgram() { throw RpcException.unsupported("no instructions here"); }

        @Override public Object maps() {
            return rec.program() == null ? List.of() : List.of(Map.of("name", "io_stats", "type", "array", "maxEntries", queues));
        }

        @Override public Object dumpMap(String name) {
            if (!name.equals("io_stats")) throw RpcException.notFound("no map " + name);
            List<Object> out = new ArrayList<>();
            for (int q = 0; q < queues; q++) {
                Map<String, Object> v = new LinkedHashMap<>(); // field order as in the BTF struct
                v.put("handled", calls.get() * 750);
                v.put("redirected", calls.get() * 250);
                out.add(Map.of("key", q, "value", v));
            }
            return out;
        }

        @Override public Object updateMap(String name, String key, String value) { throw RpcException.unsupported("read-only"); }
        @Override public void attach(dev.ublkctl.daemon.ProgramRef program) { throw RpcException.unsupported("fixed program"); }
        @Override public void detach() { throw RpcException.unsupported("fixed program"); }
        @Override public Object bench(BenchRequest req, RpcServer.Call call) { throw RpcException.unsupported("no bench"); }
        @Override public Object verify(dev.ublkctl.daemon.VerifyRequest req, RpcServer.Call call) { throw RpcException.unsupported("no verify"); }
        @Override public void close() { }
    }
}
