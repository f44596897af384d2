package dev.ublkctl.daemon;

import dev.ublkctl.engine.stats.DeviceCounters;
import dev.ublkctl.bpf.jit.EngineKind;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.ublkctl.bpf.btf.BtfFormatter;
import dev.ublkctl.bpf.insn.Disassembler;
import dev.ublkctl.bpf.insn.SourceLines;
import dev.ublkctl.bpf.maps.MapException;
import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.bpf.object.MapSpec;
import dev.ublkctl.bpf.object.ProgramSpec;
import dev.ublkctl.engine.load.Bench;
import dev.ublkctl.engine.load.BenchResult;
import dev.ublkctl.engine.load.BenchSpec;
import dev.ublkctl.engine.Device;
import dev.ublkctl.engine.UblkProgram;
import dev.ublkctl.engine.load.Verifier;
import dev.ublkctl.engine.load.VerifyResult;
import dev.ublkctl.engine.load.VerifySpec;
import dev.ublkctl.nbd.NbdServer;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;
import dev.ublkctl.bpf.vm.TraceLog;

/** A live engine device as the daemon hosts it, with its program and maps. */
final class EngineDevice implements HostedDevice {
    private final Device dev;
    private volatile DeviceRecord rec;
    private volatile Attached loaded;
    /** The NBD export, or null. */
    private NbdServer nbd;

    /** The attached program and what loads it again ({@code ref} names its ops by variable). */
    record Attached(UblkProgram program, ProgramRef ref) { }

    /** Where the attached program's bpf_printk lines go besides its ring (the daemon log), or null. */
    private volatile Consumer<String> traceSink;
    private final Consumer<String> traceListener = line -> {
        Consumer<String> t = traceSink;
        if (t != null) t.accept(line);
    };

    EngineDevice(Device dev, DeviceRecord rec, Attached loaded) {
        this.dev = dev;
        this.rec = rec;
        this.loaded = loaded;
        if (loaded != null) follow(loaded.program());
    }

    /** Listens to {@code p}'s trace log (a program instance belongs to one device: add and attach load their own). */
    private void follow(UblkProgram p) {
        p.traceLog().removeListener(traceListener);
        p.traceLog().addListener(traceListener);
    }

    @Override public void traceTo(Consumer<String> sink) { traceSink = sink; }

    @Override public TraceView trace(long after, int max) {
        Attached l = loaded;
        if (l == null) return new TraceView(dev.id(), null, after < 0 ? 0 : after, List.of(), 0);
        TraceLog.Slice s = l.program().traceLog().since(after, Math.min(Math.max(max, 0), TraceView.MAX_LINES));
        return new TraceView(dev.id(), l.program().name(), s.next(), s.lines(), s.lost());
    }

    @Override public DeviceRecord record() { return rec; }

    /** Looks at the backing files again; the record says what is wrong with them, if anything. */
    @Override
    public boolean recheck() {
        DeviceRecord before = rec;
        rec = before.withProblem(dev.target().problem().orElse(null));
        return rec != before;
    }

    @Override public StatsView stats() {
        StatsView v = StatsView.of(dev.stats());
        Attached l = loaded;
        return l == null ? v : v.withMapping(mapping(l.program()));
    }

    @Override public DeviceCounters counters() { return dev.counters(); }

    /** The device's totals from its counters read in place, not from every queue's snapshot. */
    @Override public StatsView totals() { return StatsView.totals(dev.counters()); }

    /** The qcow2 program's mapping cache ({@code qcow2_map}, counters in {@code qcow2_stats}), or null for other programs. */
    static StatsView.Mapping mapping(UblkProgram p) {
        VmMap map = p.map("qcow2_map").orElse(null), counters = p.map("qcow2_stats").orElse(null);
        if (map == null || counters == null || counters.def().valueSize() < 16 || counters.def().keySize() != 4) return null;
        long hits = 0, misses = 0;
        for (int q = 0; q < counters.def().maxEntries(); q++) {
            byte[] v = counters.lookup(java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(q).array());
            if (v == null) continue;
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(v).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            hits += b.getLong(0);
            misses += b.getLong(8);
        }
        return new StatsView.Mapping(map.name(), map.count(), map.def().maxEntries(), hits, misses);
    }

    private UblkProgram program0() {
        Attached l = loaded;
        if (l == null) throw RpcException.notFound("device " + dev.id() + " has no program");
        return l.program();
    }

    @Override public ProgramView program() {
        Attached l = loaded;
        if (l == null) return null;
        UblkProgram p = l.program();
        var total = dev.stats().total();
        return new ProgramView(dev.id(), p.name(), p.objectName(), l.ref().source(), p.opsId(), p.aioOpsName().orElse(null),
                p.callbacks(), p.maps().stream().map(VmMap::name).toList(), p.engineName(), total.progRuns(), total.progRunNanos(),
                p.compileSummary(), dev.target().fds());
    }

    @Override public List<ProgramView.Listing> dumpProgram() {
        UblkProgram p = program0();
        List<String> mapNames = p.object().maps().stream().map(MapSpec::name).toList();
        List<ProgramView.Listing> out = new ArrayList<>();
        for (var cb : p.callbacks().entrySet()) {
            ProgramSpec ps = p.object().program(cb.getValue()).orElse(null);
            if (ps == null) continue;
            SourceLines lines = i -> ps.lineAt(i).filter(l -> l.insn() == i).map(l -> l.sourceLine().strip())
                    .filter(s -> !s.isEmpty()).orElse(null);
            out.add(new ProgramView.Listing(cb.getKey(), ps.name(), ps.section(), ps.insnCount(),
                    new Disassembler(lines, ps.kfuncs(), mapNames).dump(ps.insns()).lines().toList()));
        }
        return out;
    }

    @Override public List<MapView> maps() {
        Attached l = loaded;
        if (l == null) return List.of();
        List<MapView> out = new ArrayList<>();
        for (VmMap m : l.program().maps()) {
            out.add(new MapView(m.name(), m.def().type().name().toLowerCase(java.util.Locale.ROOT), m.def().keySize(),
                    m.def().valueSize(), m.def().maxEntries(), m.count(), m.perCpu()));
        }
        return out;
    }

    private VmMap map(String name) {
        UblkProgram p = program0();
        return p.map(name).orElseThrow(() -> RpcException.notFound("device " + dev.id() + " has no map '" + name
                + "' (maps: " + String.join(", ", p.maps().stream().map(VmMap::name).toList()) + ")"));
    }

    private MapSpec spec(String name) {
        return program0().object().map(name).orElse(null);
    }

    /** Every entry, like {@code bpftool map dump}: BTF-formatted key and value where the types are known. */
    @Override public List<MapView.Entry> dumpMap(String name) {
        VmMap m = map(name);
        if (m instanceof dev.ublkctl.bpf.maps.RingBufMap rb) return ringRecords(rb);
        MapSpec s = spec(name);
        var btf = program0().object().btf();
        BtfFormatter fmt = btf == null ? null : new BtfFormatter(btf);
        List<MapView.Entry> out = new ArrayList<>();
        byte[] key = null;
        int guard = 0;
        while ((key = m.nextKey(key)) != null && guard++ <= m.def().maxEntries()) {
            byte[] val = m.lookup(key);
            if (val == null) continue;
            JsonNode k = format(fmt, s == null ? 0 : s.keyTypeId(), key);
            if (m.perCpu()) {
                int stride = (m.def().valueSize() + 7) / 8 * 8;
                List<MapView.CpuValue> per = new ArrayList<>();
                for (int cpu = 0; cpu < Math.min(m.cpus(), dev.nrQueues()); cpu++) {
                    byte[] v = java.util.Arrays.copyOfRange(val, cpu * stride, cpu * stride + m.def().valueSize());
                    per.add(new MapView.CpuValue(cpu, format(fmt, s == null ? 0 : s.valueTypeId(), v)));
                }
                out.add(new MapView.Entry(k, null, per));
            } else {
                out.add(new MapView.Entry(k, format(fmt, s == null ? 0 : s.valueTypeId(), val), null));
            }
        }
        return out;
    }

    /**
     * A ring buffer's records waiting for a reader, oldest first, without consuming them: the key is the
     * record's position, the value its header decoded (sample size, discarded) and the sample's bytes.
     */
    private static List<MapView.Entry> ringRecords(dev.ublkctl.bpf.maps.RingBufMap rb) {
        var json = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance;
        List<MapView.Entry> out = new ArrayList<>();
        for (var r : rb.peek()) {
            var v = json.objectNode();
            v.put("size", r.sample().length);
            v.put("discarded", r.discarded());
            v.put("sample", "hex:" + HexFormat.ofDelimiter(" ").formatHex(r.sample()));
            out.add(new MapView.Entry(json.numberNode(r.position()), v, null));
        }
        return out;
    }

    private static JsonNode format(BtfFormatter fmt, int typeId, byte[] data) {
        if (fmt != null && typeId != 0) {
            try {
                return fmt.format(typeId, data);
            } catch (RuntimeException e) {
                // fall back to bytes when the BTF does not describe these bytes
            }
        }
        return TextNode.valueOf("hex:" + HexFormat.ofDelimiter(" ").formatHex(data));
    }

    /** Sets one entry; KEY and VALUE as {@link MapValues} reads them (integers, hex:BYTES, BTF-typed JSON, @dev, @fdN). */
    @Override public MapView.Update updateMap(String name, String key, String value) {
        VmMap m = map(name);
        MapSpec s = spec(name);
        var btf = program0().object().btf();
        MapValues.Vars vars = new MapValues.Vars(dev.id(), dev.target().fds());
        byte[] k = MapValues.bytes("key", key, m.def().keySize(), btf, s == null ? 0 : s.keyTypeId(), vars);
        byte[] v1 = MapValues.bytes("value", value, m.def().valueSize(), btf, s == null ? 0 : s.valueTypeId(), vars);
        put(m, name, k, v1);
        BtfFormatter fmt = btf == null ? null : new BtfFormatter(btf);
        return new MapView.Update(name, format(fmt, s == null ? 0 : s.keyTypeId(), k), format(fmt, s == null ? 0 : s.valueTypeId(), v1));
    }

    /** Writes one entry (a per-cpu map gets the value on every cpu). */
    private static void put(VmMap m, String name, byte[] k, byte[] v1) {
        byte[] v = v1;
        if (m.perCpu()) {
            int stride = (m.def().valueSize() + 7) / 8 * 8;
            v = new byte[m.userValueSize()];
            for (int cpu = 0; cpu < m.cpus(); cpu++) System.arraycopy(v1, 0, v, cpu * stride, v1.length);
        }
        try {
            m.update(k, v, VmMap.BPF_ANY);
        } catch (MapException e) {
            throw RpcException.failed("map " + name + ": " + e.getMessage());
        }
    }

    /** The user's {@code --map} entries, into {@code p}'s maps for {@code dev}, before it attaches. */
    static void applyMaps(Device dev, UblkProgram p, List<MapSetting> maps) {
        if (maps.isEmpty()) return;
        var btf = p.object().btf();
        MapValues.Vars vars = new MapValues.Vars(dev.id(), dev.target().fds());
        for (MapSetting ms : maps) {
            VmMap m = p.map(ms.map()).orElseThrow(() -> RpcException.invalid("--map " + ms.map() + ": " + p.objectName()
                    + " has no such map (maps: " + String.join(", ", p.maps().stream().map(VmMap::name).toList()) + ")"));
            MapSpec s = p.object().map(ms.map()).orElse(null);
            byte[] k = MapValues.bytes("key of " + ms.map(), ms.key(), m.def().keySize(), btf, s == null ? 0 : s.keyTypeId(), vars);
            byte[] v = MapValues.bytes("value of " + ms.map(), ms.value(), m.def().valueSize(), btf, s == null ? 0 : s.valueTypeId(), vars);
            put(m, ms.map(), k, v);
        }
    }

    @Override public void attach(ProgramRef program) { attach(program, EngineKind.DEFAULT); }

    @Override public void attach(ProgramRef program, EngineKind engine) { attach(program, engine, List.of()); }

    @Override public void attach(ProgramRef program, EngineKind engine, List<MapSetting> maps) {
        UblkProgram p = program.load(engine, dev.target().programMapSizes());
        try {
            dev.attach(p, x -> applyMaps(dev, x, maps));
        } catch (IllegalStateException e) {
            throw RpcException.failed("attach failed: " + e.getMessage());
        }
        follow(p);
        Attached l = new Attached(p, program.pinned(p));
        loaded = l;
        rec = rec.withProgram(p.name(), l.ref().source(), l.ref().toString(), p.engineName());
    }

    @Override public void detach() {
        if (loaded == null) throw RpcException.notFound("device " + dev.id() + " has no program");
        dev.detach();
        loaded = null;
        rec = rec.withProgram(null, null, null);
    }

    @Override public BenchView bench(BenchRequest req, RpcServer.Call call) {
        BenchSpec spec = req.spec();
        BenchResult r = Bench.run(dev, spec, pr -> call.progress(new BenchView.Progress(
                pr.elapsed().toNanos() / 1e9, pr.ios(), pr.bytes(), pr.iops(), pr.mbPerSec())));
        return BenchView.of(dev.id(), r, call.cancelled());
    }

    @Override public VerifyView verify(VerifyRequest req, RpcServer.Call call) {
        long size = dev.size();
        int bs = req.bs() > 0 ? req.bs() : 4096;
        if (bs % dev.logicalBlockSize() != 0) {
            throw RpcException.invalid("--bs " + bs + " is not a multiple of the device's block size " + dev.logicalBlockSize());
        }
        long off = req.offset();
        long len = req.length() > 0 ? req.length() : Math.min(size - off, VerifyRequest.DEFAULT_LENGTH);
        len -= len % bs;
        if (off < 0 || off % dev.logicalBlockSize() != 0 || off + len > size || len < bs) {
            throw RpcException.invalid("verify region [" + off + ", +" + len + ") does not fit the device (" + size + " bytes)");
        }
        VerifySpec spec = new VerifySpec(off, len, bs, 16, System.currentTimeMillis());
        VerifyResult r = Verifier.run(dev, spec, pr -> call.progress(new BenchView.Progress(
                pr.elapsed().toNanos() / 1e9, pr.ios(), pr.bytes(), pr.iops(), pr.mbPerSec())));
        return VerifyView.of(dev.id(), off, bs, r);
    }

    @Override
    public synchronized ExportView export(ExportRequest req, java.nio.file.Path defaultSocket,
                                          java.util.function.Consumer<String> log) {
        if (nbd != null)
            throw new RpcException(RpcException.EXISTS, "device " + dev.id() + " is already exported at " + nbd.uri()
                    + " (ublkctl unexport -n " + dev.id() + " first)");
        java.net.SocketAddress addr = req.listen() != null ? ExportRequest.listenAddress(req.listen())
                : java.net.UnixDomainSocketAddress.of(req.socket() != null ? java.nio.file.Path.of(req.socket()) : defaultSocket);
        dev.ublkctl.ublk.BlockDevice block;
        try {
            block = dev.block();
        } catch (IllegalStateException | UnsupportedOperationException e) {
            throw RpcException.unsupported("device " + dev.id() + " cannot be exported: " + e.getMessage());
        }
        String desc = "ublkctl device " + dev.id() + " (" + dev.targetType() + ", " + dev.backend() + ")";
        try {
            nbd = NbdServer.start(addr, new NbdServer.Export(req.exportName(), block, req.readOnly(), desc), log);
        } catch (java.io.IOException e) {
            throw RpcException.failed(e.getMessage());
        }
        var u = nbd.uri();
        java.net.SocketAddress bound = nbd.address();
        String address = bound instanceof java.net.InetSocketAddress ia
                ? (ia.getAddress().getHostAddress().contains(":") ? "[" + ia.getAddress().getHostAddress() + "]" : ia.getAddress().getHostAddress())
                  + ":" + ia.getPort() : null;
        ExportView v = new ExportView(u.toString(), u.name(), u.socket() == null ? null : u.socket().toString(), address, req.readOnly());
        rec = rec.withExport(v);
        return v;
    }

    @Override
    public synchronized ExportView unexport() {
        if (nbd == null) throw RpcException.notFound("device " + dev.id() + " is not exported");
        ExportView v = rec.export();
        nbd.close();
        nbd = null;
        rec = rec.withExport(null);
        return v;
    }

    /** The device goes first (a refused delete keeps the export); then the export's clients are dropped. */
    @Override
    public void close() {
        dev.close();
        NbdServer s;
        synchronized (this) {
            s = nbd;
            nbd = null;
        }
        if (s != null) s.close();
    }
}
