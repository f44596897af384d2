package dev.ublkctl.bpf.kernel;

import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.MapSpec;
import dev.ublkctl.bpf.object.ProgramSpec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One program of an object, live in the kernel with the maps it references (cilium/ebpf's
 * {@code Collection}, for one program): maps created from their specs, global data initialised,
 * map indices in {@code ld_imm64} replaced by the new fds, the program loaded. Used to run the
 * same object in the kernel and in the VM side by side.
 */
public final class KernelCollection implements AutoCloseable {
    private final List<KernelMap> maps;
    private final KernelProgram program;

    private KernelCollection(List<KernelMap> maps, KernelProgram program) {
        this.maps = maps;
        this.program = program;
    }

    /** Loads {@code spec} of {@code obj}; on failure, closes what it created and rethrows. */
    public static KernelCollection load(BpfObject obj, ProgramSpec spec) {
        if (!spec.kfuncs().isEmpty())
            throw new IllegalArgumentException("program " + spec.name() + " calls kfuncs " + spec.kfuncs()
                    + ", which this kernel loader does not resolve");
        List<KernelMap> maps = new ArrayList<>();
        try {
            for (MapSpec m : obj.maps()) {
                KernelMap km = Bpf.createMap(m.type(), m.name(), m.keySize(), m.valueSize(), m.maxEntries(),
                        m.flags());
                maps.add(km);
                if (m.isGlobalData()) km.update(new byte[4], m.initialValue(), Bpf.BPF_ANY);
            }
            byte[] insns = spec.insns();
            ByteBuffer b = ByteBuffer.wrap(insns).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < spec.insnCount(); i++) {
                int src = (insns[i * 8 + 1] >> 4) & 0xf;
                if ((insns[i * 8] & 0xff) == 0x18) {
                    if (src == ProgramSpec.PSEUDO_MAP_FD || src == ProgramSpec.PSEUDO_MAP_VALUE)
                        b.putInt(i * 8 + 4, maps.get(b.getInt(i * 8 + 4)).fd());
                    i++; // ld_imm64 takes two slots
                }
            }
            Bpf.ProgramLoad load = new Bpf.ProgramLoad(spec.type(), insns, obj.license(), spec.name());
            KernelProgram p = Bpf.loadProgram(spec.sleepable() ? load.withFlags(Bpf.BPF_F_SLEEPABLE) : load);
            return new KernelCollection(maps, p);
        } catch (RuntimeException e) {
            maps.forEach(KernelMap::close);
            throw e;
        }
    }

    public KernelProgram program() { return program; }

    /** The kernel map made from the object's map at {@code index} (same order as {@link BpfObject#maps()}). */
    public KernelMap map(int index) { return maps.get(index); }

    public List<KernelMap> maps() { return List.copyOf(maps); }

    @Override
    public void close() {
        program.close();
        maps.forEach(KernelMap::close);
    }
}
