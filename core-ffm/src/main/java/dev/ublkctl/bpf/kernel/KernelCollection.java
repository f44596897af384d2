package dev.ublkctl.bpf.kernel;

import dev.ublkctl.bpf.insn.Decoder;
import dev.ublkctl.bpf.insn.Encoder;
import dev.ublkctl.bpf.insn.Instruction;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.MapSpec;
import dev.ublkctl.bpf.object.ProgramSpec;

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
    /**
     * A program's instructions as the kernel takes them: every ld_imm64 of a map (or of its value)
     * carries the map's fd where the object has its index (the src_reg values are the same).
     */
    public static byte[] withMapFds(byte[] insns, java.util.function.IntUnaryOperator fdOfMap) {
        long[] slots = Decoder.slots(insns);
        for (int i = 0; i < slots.length; ) {
            Instruction insn = Decoder.decode(slots, i);
            if (insn instanceof Instruction.LoadImm64 l
                    && (l.kind() == Instruction.ImmKind.MAP || l.kind() == Instruction.ImmKind.MAP_VALUE)) {
                long fd = fdOfMap.applyAsInt(l.mapIndex()) & 0xffffffffL;
                long[] patched = Encoder.encode(new Instruction.LoadImm64(l.dst(), l.kind(), (l.imm() & 0xffffffff00000000L) | fd));
                System.arraycopy(patched, 0, slots, i, patched.length);
            }
            i += insn.slots();
        }
        return Decoder.bytes(slots);
    }

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
            byte[] insns = withMapFds(spec.insns(), i -> maps.get(i).fd());
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
