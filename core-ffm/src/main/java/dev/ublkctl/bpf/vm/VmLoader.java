package dev.ublkctl.bpf.vm;

import dev.ublkctl.bpf.maps.MapDef;
import dev.ublkctl.bpf.maps.MapException;
import dev.ublkctl.bpf.maps.ProgArrayMap;
import dev.ublkctl.bpf.maps.VmMap;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.MapSpec;
import dev.ublkctl.bpf.object.ProgramSpec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * From what the loader parsed ({@link BpfObject}) to what the VM runs: maps with their initial
 * global data, and prepared programs with C line info for faults and listings. The loader's
 * relocation conventions (map index in ld_imm64, kfunc index in kfunc calls) are the VM's.
 */
public final class VmLoader {
    private VmLoader() {}

    /** A VM map for {@code spec}; global data maps start with the section's bytes. */
    public static VmMap createMap(MapSpec spec, int cpus) {
        VmMap m = VmMap.create(new MapDef(spec.name(), spec.type(), spec.keySize(), spec.valueSize(),
                spec.maxEntries(), spec.flags()), cpus);
        byte[] init = spec.initialValue();
        if (init != null) {
            byte[] value = java.util.Arrays.copyOf(init, m.userValueSize());
            try {
                m.update(new byte[spec.keySize()], value, VmMap.BPF_ANY);
            } catch (MapException e) {
                throw new IllegalStateException("cannot initialise global data map " + spec.name() + ": " + e.getMessage(), e);
            }
        }
        return m;
    }

    /** VM maps for all of the object's maps, in the object's order (the ld_imm64 indexes). */
    public static List<VmMap> createMaps(BpfObject obj, int cpus) {
        List<VmMap> maps = new ArrayList<>(obj.maps().size());
        VmMap.checkTotal(obj.name(), obj.maps().stream().map(s -> new MapDef(s.name(), s.type(), s.keySize(), s.valueSize(),
                s.maxEntries(), s.flags())).toList(), cpus);
        for (MapSpec s : obj.maps()) maps.add(createMap(s, cpus));
        return maps;
    }

    /**
     * Every program of {@code obj} prepared against {@code maps}, by name, with the program arrays filled
     * ({@link #fillProgramArrays}).
     */
    public static Map<String, VmProgram> prepareAll(BpfObject obj, List<VmMap> maps, FunctionRegistry registry) throws VmFault {
        Map<String, VmProgram> out = new LinkedHashMap<>();
        for (ProgramSpec p : obj.programs()) out.put(p.name(), prepare(p, maps, registry));
        fillProgramArrays(obj, maps, out::get);
        return out;
    }

    /**
     * Fills the object's program arrays as libbpf does after loading: slot i of a map initialised with
     * {@code .values = { [i] = &prog }} gets {@code programs.apply("prog")}. Each program array's resolver
     * (what a user's update may name, by program id) becomes the programs {@code programs} gives.
     */
    public static void fillProgramArrays(BpfObject obj, List<VmMap> maps, Function<String, VmProgram> programs) {
        Map<Integer, VmProgram> byId = new ConcurrentHashMap<>();
        for (int i = 0; i < obj.maps().size(); i++) {
            MapSpec spec = obj.maps().get(i);
            if (!(maps.get(i) instanceof ProgArrayMap pa)) continue;
            pa.setResolver(id -> {
                VmProgram p = byId.get(id);
                if (p != null) return p;
                for (ProgramSpec ps : obj.programs()) {   // programs prepared on demand are found once asked for
                    try {
                        VmProgram q = programs.apply(ps.name());
                        if (q != null) byId.put(q.id(), q);
                    } catch (RuntimeException cannotRun) {
                        // a program that cannot be prepared here is no tail call target
                    }
                }
                return byId.get(id);
            });
            for (var e : spec.initialPrograms().entrySet()) {
                VmProgram p = programs.apply(e.getValue());
                if (p == null) throw new IllegalArgumentException(obj.name() + ": program array " + spec.name() + " slot "
                        + e.getKey() + " names program " + e.getValue() + ", which is not loaded");
                try {
                    pa.set(e.getKey(), p);
                } catch (MapException ex) {
                    throw new IllegalArgumentException(obj.name() + ": program array " + spec.name() + ": " + ex.getMessage(), ex);
                }
            }
        }
    }

    /** Prepares {@code prog} against {@code maps} (from {@link #createMaps}) and {@code registry}. */
    public static VmProgram prepare(ProgramSpec prog, List<VmMap> maps, FunctionRegistry registry) throws VmFault {
        return VmProgram.builder(prog.name(), prog.insns())
                .maps(maps)
                .kfuncs(prog.kfuncs())
                .registry(registry)
                .sourceLines(i -> prog.lineAt(i).map(ProgramSpec.LineInfo::toString).orElse(null))
                .prepare();
    }
}
