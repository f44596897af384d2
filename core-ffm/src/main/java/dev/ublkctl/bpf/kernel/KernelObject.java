package dev.ublkctl.bpf.kernel;

import dev.ublkctl.bpf.maps.MapType;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.MapSpec;
import dev.ublkctl.bpf.object.ProgramSpec;
import dev.ublkctl.bpf.object.ProgramType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every program of an object live in the kernel, sharing the object's maps (cilium/ebpf's {@code Collection}):
 * the object's BTF loaded (sanitized as libbpf does), maps created with their BTF key and value types (so
 * values may hold a {@code bpf_spin_lock}), global data initialised, programs loaded with the map fds in
 * their {@code ld_imm64}s. Program arrays are filled by name afterwards ({@link #setTailCall}), as libbpf's
 * users do with {@code bpf_map_update_elem(prog_array, &i, &prog_fd)}. struct_ops programs and programs
 * calling kfuncs are not loaded here.
 */
public final class KernelObject implements AutoCloseable {
    private final List<KernelMap> maps = new ArrayList<>();
    private final Map<String, KernelProgram> programs = new LinkedHashMap<>();
    private final BpfObject obj;
    private int btfFd = -1;
    /** Why the object's BTF did not load, or null. */
    private String btfError;

    private KernelObject(BpfObject obj) { this.obj = obj; }

    /** Loads {@code obj}; on failure closes what it created and rethrows (a {@link BpfException} carries the verifier log). */
    public static KernelObject load(BpfObject obj) {
        KernelObject k = new KernelObject(obj);
        try {
            if (obj.btf() != null) {
                try {
                    k.btfFd = Bpf.loadBtf(obj.btf().sanitizedForKernel().encode());
                } catch (BpfException e) {
                    k.btfFd = -1;   // maps without types still load, unless a value needs them (the kernel says so)
                    k.btfError = e.getMessage();
                }
            }
            for (MapSpec m : obj.maps()) {
                boolean typed = k.btfFd >= 0 && m.valueTypeId() != 0 && !m.isGlobalData() && m.type() != MapType.PROG_ARRAY
                        && m.type() != MapType.RINGBUF;
                KernelMap km = typed
                        ? Bpf.createMap(m.type(), m.name(), m.keySize(), m.valueSize(), m.maxEntries(), m.flags(), k.btfFd,
                                m.keyTypeId(), m.valueTypeId())
                        : Bpf.createMap(m.type(), m.name(), m.keySize(), m.valueSize(), m.maxEntries(), m.flags());
                k.maps.add(km);
                if (m.isGlobalData()) km.update(new byte[4], m.initialValue(), Bpf.BPF_ANY);
            }
            for (ProgramSpec p : obj.programs()) {
                if (p.type() == ProgramType.STRUCT_OPS || !p.kfuncs().isEmpty()) continue;
                byte[] insns = KernelCollection.withMapFds(p.insns(), i -> k.maps.get(i).fd());
                Bpf.ProgramLoad load = new Bpf.ProgramLoad(p.type(), insns, obj.license(), p.name());
                if (k.btfFd >= 0 && !p.funcInfo().isEmpty()) load = load.withBtf(k.btfFd, funcInfo(p));
                k.programs.put(p.name(), Bpf.loadProgram(p.sleepable() ? load.withFlags(Bpf.BPF_F_SLEEPABLE) : load));
            }
            // program arrays initialised in C (.values), as libbpf fills them after loading
            for (MapSpec m : obj.maps())
                m.initialPrograms().forEach((slot, prog) -> k.setTailCall(m.name(), slot, prog));
            return k;
        } catch (RuntimeException e) {
            k.close();
            throw e;
        }
    }

    /** The program's func info as {@code struct bpf_func_info} records (callbacks need them). */
    static byte[] funcInfo(ProgramSpec p) {
        ByteBuffer b = ByteBuffer.allocate(p.funcInfo().size() * Bpf.FUNC_INFO_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (ProgramSpec.FuncInfo f : p.funcInfo()) b.putInt(f.insn()).putInt(f.typeId());
        return b.array();
    }

    public KernelProgram program(String name) {
        KernelProgram p = programs.get(name);
        if (p == null) throw new IllegalArgumentException(obj.name() + ": no program " + name + " loaded (" + programs.keySet() + ")");
        return p;
    }

    public KernelMap map(String name) { return maps.get(obj.mapIndex(name)); }

    public BpfObject object() { return obj; }

    /** The object's map {@code index} (the ld_imm64 index), for loaders of programs of this object. */
    int mapFd(int index) { return maps.get(index).fd(); }

    /** The fd of the object's BTF in the kernel; fails with the kernel's reason if it did not load. */
    int btfFd() {
        if (btfFd < 0) throw new IllegalStateException(obj.name() + ": its BTF is not in the kernel"
                + (btfError == null ? " (the object has none)" : ": " + btfError));
        return btfFd;
    }

    /** Puts program {@code program} at {@code index} of program array {@code map}. */
    public void setTailCall(String map, int index, String program) {
        byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(index).array();
        byte[] fd = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(program(program).fd()).array();
        map(map).update(key, fd, Bpf.BPF_ANY);
    }

    @Override
    public void close() {
        programs.values().forEach(KernelProgram::close);
        programs.clear();
        maps.forEach(KernelMap::close);
        maps.clear();
        if (btfFd >= 0) dev.ublkctl.sys.Libc.close(btfFd);
        btfFd = -1;
    }
}
