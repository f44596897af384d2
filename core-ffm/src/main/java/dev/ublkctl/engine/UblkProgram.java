package dev.ublkctl.engine;

import dev.ublkctl.bpf.jit.EngineKind;
import dev.ublkctl.bpf.maps.MapDef;
import dev.ublkctl.bpf.maps.MapException;
import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.MapSpec;
import dev.ublkctl.bpf.object.ProgramSpec;
import dev.ublkctl.bpf.object.StructOpsSpec;
import dev.ublkctl.bpf.vm.ExecutionEngine;
import dev.ublkctl.bpf.vm.FunctionRegistry;
import dev.ublkctl.bpf.vm.TraceLog;
import dev.ublkctl.bpf.vm.VmContext;
import dev.ublkctl.bpf.vm.VmFault;
import dev.ublkctl.bpf.vm.VmLoader;
import dev.ublkctl.bpf.vm.VmProgram;
import dev.ublkctl.target.FileTarget;
import dev.ublkctl.target.MappingSink;
import dev.ublkctl.target.Qcow2Target;
import dev.ublkctl.target.TargetType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One {@code struct ublk_bpf_ops} of a BPF object (plus the {@code bpf_aio_complete_ops} with the same
 * id, if the object has one), live in ublkctl's eBPF VM: its maps created, its programs prepared with
 * the ublk and bpf aio kfuncs. Several devices may attach the same instance; they share its maps, as
 * devices attached to one registered struct_ops share them in the kernel.
 */
public final class UblkProgram {
    /** Struct_ops types the engine runs. */
    public static final String OPS_TYPE = "ublk_bpf_ops", AIO_OPS_TYPE = "bpf_aio_complete_ops";
    /** VM cpus of per-cpu maps: one per possible queue. */
    static final int VM_CPUS = dev.ublkctl.ublk.DeviceInfo.MAX_QUEUES;
    /** The VM cpus the runs of this instance's programs lease (its per-cpu maps have one slot each). */
    final VirtualCpus cpus = new VirtualCpus(VM_CPUS);

    private final BpfObject object;
    private final StructOpsSpec ops;
    private final StructOpsSpec aioOps;
    private final List<VmMap> maps;
    private final Map<String, VmMap> mapsByName = new LinkedHashMap<>();
    private final TraceLog log;
    /** Map sizes the device's target asked for (name → max_entries). */
    private final Map<String, Integer> sizes;
    final ExecutionEngine engine;
    final VmProgram queueIoCmd, queueIoCmdDaemon, releaseIoCmd, attachDev, detachDev, aioComplete;

    private UblkProgram(BpfObject object, StructOpsSpec ops, StructOpsSpec aioOps, ExecutionEngine engine,
                        Map<String, Integer> sizes) {
        this.engine = engine;
        this.sizes = Map.copyOf(sizes);
        this.object = object;
        this.ops = ops;
        this.aioOps = aioOps;
        this.log = new TraceLog();
        FunctionRegistry reg = FunctionRegistry.standard(log);
        UblkKfuncs.registerAll(reg);
        List<VmMap> ms = new ArrayList<>();
        VmMap.checkTotal(object.name(), object.maps().stream()
                .map(s -> new MapDef(s.name(), s.type(), s.keySize(), s.valueSize(), maxEntries(s, sizes), s.flags())).toList(), VM_CPUS);
        for (MapSpec s : object.maps()) {
            VmMap m = VmMap.create(new MapDef(s.name(), s.type(), s.keySize(), s.valueSize(), maxEntries(s, sizes), s.flags()), VM_CPUS);
            if (s.initialValue() != null) {
                try {
                    m.update(new byte[4], s.initialValue(), VmMap.BPF_ANY);
                } catch (MapException e) {
                    throw new IllegalArgumentException(object.name() + ": cannot initialise " + s.name() + ": " + e.getMessage(), e);
                }
            }
            ms.add(m);
            mapsByName.put(s.name(), m);
        }
        this.maps = List.copyOf(ms);
        queueIoCmd = prepare(ops, "queue_io_cmd", reg);
        queueIoCmdDaemon = prepare(ops, "queue_io_cmd_daemon", reg);
        releaseIoCmd = prepare(ops, "release_io_cmd", reg);
        attachDev = prepare(ops, "attach_dev", reg);
        detachDev = prepare(ops, "detach_dev", reg);
        aioComplete = aioOps == null ? null : prepare(aioOps, "bpf_aio_complete_cb", reg);
        // compile now (the JIT), at load and attach time, never on the I/O path
        for (VmProgram vp : new VmProgram[]{queueIoCmd, queueIoCmdDaemon, releaseIoCmd, attachDev, detachDev, aioComplete})
            if (vp != null) engine.prepare(vp);
        // tail call targets: the object's program arrays filled from its .values, programs prepared as named
        Map<String, VmProgram> tailTargets = new java.util.concurrent.ConcurrentHashMap<>();
        for (VmProgram vp : new VmProgram[]{queueIoCmd, queueIoCmdDaemon, releaseIoCmd, attachDev, detachDev, aioComplete})
            if (vp != null) tailTargets.put(vp.name(), vp);
        VmLoader.fillProgramArrays(object, maps, name -> tailTargets.computeIfAbsent(name, n -> {
            ProgramSpec p = object.program(n).orElse(null);
            if (p == null) return null;
            try {
                VmProgram vp = VmProgram.builder(p.name(), p.insns()).maps(maps).kfuncs(p.kfuncs()).registry(reg).prepare();
                engine.prepare(vp);
                return vp;
            } catch (VmFault f) {
                throw new IllegalArgumentException(object.name() + ": program " + n + " (a tail call target) cannot run: "
                        + f.getMessage(), f);
            }
        }));
    }

    /** The object's max_entries, or the size the device's target asks for (hash maps only: an array's indexes are the program's). */
    private static int maxEntries(MapSpec s, Map<String, Integer> sizes) {
        Integer n = sizes.get(s.name());
        boolean hash = switch (s.type()) {
            case HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH -> true;
            default -> false;
        };
        return n != null && n > 0 && hash ? n : s.maxEntries();
    }

    private VmProgram prepare(StructOpsSpec s, String member, FunctionRegistry reg) {
        Optional<String> name = s.program(member);
        if (name.isEmpty()) return null;
        ProgramSpec p = object.program(name.get()).orElseThrow(() -> new IllegalArgumentException(
                object.name() + ": " + s.name() + "." + member + " names program " + name.get() + ", which the object lacks"));
        try {
            return VmProgram.builder(p.name(), p.insns()).maps(maps).kfuncs(p.kfuncs()).registry(reg).prepare();
        } catch (VmFault f) {
            throw new IllegalArgumentException(object.name() + ": program " + p.name() + " (" + s.name() + "." + member
                    + ") cannot run: " + f.getMessage(), f);
        }
    }

    /** The execution engine new programs run on ({@link EngineKind#DEFAULT}: the JIT). */
    public static ExecutionEngine defaultEngine() { return EngineKind.DEFAULT.create(); }

    /** Same program on another execution engine (e.g. a JIT), with fresh maps. */
    public UblkProgram withEngine(ExecutionEngine e) { return new UblkProgram(object, ops, aioOps, e, sizes); }

    /**
     * The one loader: the {@code ublk_bpf_ops} of {@code obj} that {@code ref} picks, with the
     * {@code bpf_aio_complete_ops} of the same id if the object has one.
     * @throws IllegalArgumentException the object has no such ops, or a program of it cannot run in the VM
     */
    public static UblkProgram load(BpfObject obj, OpsRef ref) { return load(obj, ref, defaultEngine()); }

    /** {@link #load(BpfObject, OpsRef)} with its programs run (and compiled now) on {@code engine}. */
    public static UblkProgram load(BpfObject obj, OpsRef ref, ExecutionEngine engine) { return load(obj, ref, engine, Map.of()); }

    /**
     * {@link #load(BpfObject, OpsRef, ExecutionEngine)} with some hash maps given {@code sizes} entries (by map name)
     * instead of the object's {@code max_entries}: what a device's target asks for ({@code Target.programMapSizes}).
     */
    public static UblkProgram load(BpfObject obj, OpsRef ref, ExecutionEngine engine, Map<String, Integer> sizes) {
        StructOpsSpec s = switch (ref) {
            case OpsRef.First f -> obj.structOps().stream().filter(o -> o.typeName().equals(OPS_TYPE)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException(obj.name() + " has no struct " + OPS_TYPE
                            + " (a ublk program defines one in SEC(\".struct_ops\"))"));
            case OpsRef.ById b -> obj.structOps().stream()
                    .filter(o -> o.typeName().equals(OPS_TYPE) && o.id().isPresent() && o.id().getAsLong() == b.id())
                    .findFirst().orElseThrow(() -> new IllegalArgumentException(obj.name() + " has no " + OPS_TYPE
                            + " with id " + b.id() + " (has " + describe(obj) + ")"));
            case OpsRef.Named n -> {
                StructOpsSpec v = obj.structOps(n.name()).orElseThrow(() -> new IllegalArgumentException(
                        obj.name() + " has no struct_ops variable " + n.name() + " (has " + describe(obj) + ")"));
                if (!v.typeName().equals(OPS_TYPE))
                    throw new IllegalArgumentException(obj.name() + ": " + n.name() + " is a struct " + v.typeName() + ", not " + OPS_TYPE);
                yield v;
            }
        };
        return of(obj, s, engine, sizes);
    }

    private static UblkProgram of(BpfObject obj, StructOpsSpec s, ExecutionEngine engine, Map<String, Integer> sizes) {
        StructOpsSpec aio = null;
        if (s.id().isPresent()) {
            long id = s.id().getAsLong();
            aio = obj.structOps().stream().filter(o -> o.typeName().equals(AIO_OPS_TYPE) && o.id().isPresent()
                    && o.id().getAsLong() == id).findFirst().orElse(null);
        }
        return new UblkProgram(obj, s, aio, engine, sizes);
    }

    private static String describe(BpfObject obj) {
        List<String> l = new ArrayList<>();
        for (StructOpsSpec s : obj.structOps()) l.add(s.name() + " (" + s.typeName() + " id " + (s.id().isPresent() ? s.id().getAsLong() : "-") + ")");
        return l.isEmpty() ? "no struct_ops" : String.join(", ", l);
    }

    /** The struct_ops variable name, e.g. "loop_ops". */
    public String name() { return ops.name(); }

    /** The {@code id} member: what a device names in its BPF param. */
    public int opsId() { return (int) ops.id().orElse(-1); }

    /** The paired {@code bpf_aio_complete_ops} variable, if any. */
    public Optional<String> aioOpsName() { return Optional.ofNullable(aioOps).map(StructOpsSpec::name); }

    public String objectName() { return object.name(); }

    public BpfObject object() { return object; }

    /** Callback member → program name. */
    public Map<String, String> callbacks() { return ops.programs(); }

    /** The VM maps (shared by every device this program is attached to). */
    public List<VmMap> maps() { return maps; }

    public Optional<VmMap> map(String name) { return Optional.ofNullable(mapsByName.get(name)); }

    /** Where {@code bpf_printk} output goes. */
    public TraceLog traceLog() { return log; }

    /** Which execution engine runs the programs ("interpreter"). */
    /** "jit" or "interp" (the {@code --engine} names). */
    public String engineName() { return EngineKind.of(engine).label(); }

    /**
     * How each program of the ops runs on this engine, for {@code prog show}: compile time and size, or
     * why the interpreter runs it ("queue_io_cmd: jit (compiled in 1.20 ms, 900 bytes of bytecode); ...").
     */
    public String compileSummary() {
        EngineKind k = EngineKind.of(engine);
        List<String> parts = new ArrayList<>();
        String[] names = {"queue_io_cmd", "queue_io_cmd_daemon", "release_io_cmd", "attach_dev", "detach_dev", "bpf_aio_complete_cb"};
        VmProgram[] progs = {queueIoCmd, queueIoCmdDaemon, releaseIoCmd, attachDev, detachDev, aioComplete};
        for (int i = 0; i < progs.length; i++) if (progs[i] != null) parts.add(names[i] + ": " + k.describe(progs[i]));
        return String.join("; ", parts);
    }

    // ------------------------------------------------------------------ device binding

    /** Runs {@code attach_dev(devId)}; 0 if the program has none. */
    int runAttach(int devId) {
        if (attachDev == null) return 0;
        try {
            return (int) engine.runStructOps(attachDev, new VmContext(), devId);
        } catch (VmFault f) {
            throw new IllegalStateException("attach_dev(" + devId + ") of " + name() + " faulted: " + f.getMessage(), f);
        }
    }

    void runDetach(int devId) {
        if (detachDev == null) return;
        try {
            engine.runStructOps(detachDev, new VmContext(), devId);
        } catch (VmFault f) {
            System.getLogger(UblkProgram.class.getName()).log(System.Logger.Level.WARNING,
                    "detach_dev(" + devId + ") of " + name() + " faulted: " + f.getMessage());
        }
    }

    /**
     * Tells the program about the device's backing files, as the RFC's server does before START_DEV:
     * {@code loop_files[dev_id] = {fd, 0}} for loop, {@code stripe_cfg[dev_id] = {chunk_shift, nr, fds[4]}}
     * for stripe, when the object has those maps; kublk's {@code fd_map} / {@code stripe_map} as kublk
     * fills them ({@link KublkMaps}).
     */
    void bind(Device d) {
        if (d.target instanceof Qcow2Target qt) {
            bindQcow2(d, qt);
            return;
        }
        if (!(d.target instanceof FileTarget ft)) return;
        try {
            KublkMaps.bind(this, d);
        } catch (MapException e) {
            throw new IllegalStateException("cannot tell " + name() + " about device " + d.id() + ": " + e.getMessage(), e);
        }
        List<Integer> fds = ft.fds();
        byte[] key = le(4).putInt(d.id()).array();
        try {
            VmMap loop = mapsByName.get("loop_files");
            if (loop != null && ft.type() == TargetType.LOOP && loop.def().keySize() == 4 && loop.def().valueSize() == 8)
                loop.update(key, le(8).putInt(fds.getFirst()).putInt(0).array(), VmMap.BPF_ANY);
            VmMap stripe = mapsByName.get("stripe_cfg");
            if (stripe != null && ft.type() == TargetType.STRIPE && stripe.def().keySize() == 4 && stripe.def().valueSize() == 24) {
                ByteBuffer b = le(24).putInt(Integer.numberOfTrailingZeros(ft.chunkSize())).putInt(fds.size());
                for (int i = 0; i < 4; i++) b.putInt(i < fds.size() ? fds.get(i) : -1);
                stripe.update(key, b.array(), VmMap.BPF_ANY);
            }
        } catch (MapException e) {
            throw new IllegalStateException("cannot tell " + name() + " about device " + d.id() + ": " + e.getMessage(), e);
        }
    }

    /**
     * qcow2: {@code qcow2_cfg[dev_id] = {image fd, cluster_bits}}, and the target publishes into
     * {@code qcow2_map} ({dev_id, 0, cluster} -> {host offset}) from now on. Entries the map held
     * for this device (an earlier attachment) are dropped first: nobody kept them current.
     */
    private void bindQcow2(Device d, Qcow2Target qt) {
        VmMap cfg = mapsByName.get("qcow2_cfg"), map = mapsByName.get("qcow2_map");
        if (cfg == null || map == null || cfg.def().keySize() != 4 || cfg.def().valueSize() != 8
                || map.def().keySize() != 16 || map.def().valueSize() != 8) return;
        int dev = d.id();
        try {
            dropMappings(map, dev);
            cfg.update(le(4).putInt(dev).array(), le(8).putInt(qt.fds().getFirst()).putInt(qt.image().clusterBits()).array(), VmMap.BPF_ANY);
        } catch (MapException e) {
            throw new IllegalStateException("cannot tell " + name() + " about device " + dev + ": " + e.getMessage(), e);
        }
        qt.mappingSink(new MappingSink() {
            @Override
            public void put(long cluster, long hostOffset) {
                try {
                    map.update(le(16).putInt(dev).putInt(0).putLong(cluster).array(), le(8).putLong(hostOffset).array(), VmMap.BPF_ANY);
                } catch (MapException e) {
                    // a full map that cannot evict: the cluster stays a miss, served by the target
                }
            }

            @Override
            public void remove(long cluster) {
                try {
                    map.delete(le(16).putInt(dev).putInt(0).putLong(cluster).array());
                } catch (MapException e) {
                    // not mapped
                }
            }
        });
    }

    /** Deletes every {@code qcow2_map} entry of device {@code dev}. */
    private static void dropMappings(VmMap map, int dev) throws MapException {
        List<byte[]> mine = new ArrayList<>();
        for (byte[] k = map.nextKey(null); k != null; k = map.nextKey(k))
            if (ByteBuffer.wrap(k).order(ByteOrder.LITTLE_ENDIAN).getInt(0) == dev) mine.add(k);
        for (byte[] k : mine) {
            try {
                map.delete(k);
            } catch (MapException gone) {
                // evicted meanwhile
            }
        }
    }

    void unbind(Device d) {
        KublkMaps.unbind(this, d);
        if (d.target instanceof Qcow2Target qt) {
            qt.mappingSink(null);
            VmMap map = mapsByName.get("qcow2_map");
            try {
                if (map != null && map.def().keySize() == 16) dropMappings(map, d.id());
            } catch (MapException ignored) {
                // nothing left to drop
            }
        }
        byte[] key = le(4).putInt(d.id()).array();
        for (String m : List.of("loop_files", "stripe_cfg", "qcow2_cfg")) {
            VmMap map = mapsByName.get(m);
            if (map == null || map.def().keySize() != 4) continue;
            try {
                map.delete(key);
            } catch (MapException ignored) {
                // not bound for this device
            }
        }
    }

    private static ByteBuffer le(int n) { return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN); }

    @Override
    public String toString() {
        return "UblkProgram[" + object.name() + ":" + name() + " id " + opsId() + aioOpsName().map(a -> " aio " + a).orElse("")
                + " " + Collections.unmodifiableMap(ops.programs()) + "]";
    }
}
