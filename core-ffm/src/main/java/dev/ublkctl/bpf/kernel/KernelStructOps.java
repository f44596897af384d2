package dev.ublkctl.bpf.kernel;

import dev.ublkctl.bpf.btf.Btf;
import dev.ublkctl.bpf.btf.BtfKind;
import dev.ublkctl.bpf.btf.BtfType;
import dev.ublkctl.bpf.object.BpfObject;
import dev.ublkctl.bpf.object.ProgramSpec;
import dev.ublkctl.bpf.object.StructOpsSpec;
import dev.ublkctl.sys.Libc;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A struct_ops variable of an object registered in the kernel, by the steps libbpf takes, for any struct_ops
 * type the kernel has ({@code tcp_congestion_ops}, {@code ublk_bpf_ops} on an RFC kernel, ...):
 * <ol>
 *   <li>the kernel's BTF gives {@code struct T} and the map value type {@code struct bpf_struct_ops_T}
 *       (its {@code data} member is a {@code struct T});</li>
 *   <li>each member of the object's struct is matched by name to a member of the kernel's: a function pointer
 *       member's program is loaded as BPF_PROG_TYPE_STRUCT_OPS with {@code attach_btf_id} = T and
 *       {@code expected_attach_type} = the member's index in T, and its fd goes in the value at the kernel's
 *       offset; other members are copied (same size required);</li>
 *   <li>a BPF_MAP_TYPE_STRUCT_OPS map of that value ({@code btf_vmlinux_value_type_id}) gets it at key 0:
 *       for {@code SEC(".struct_ops")} that registers it, for {@code SEC(".struct_ops.link")}
 *       (map flag BPF_F_LINK) a BPF_LINK_CREATE of the map does.</li>
 * </ol>
 * {@link #close()} unregisters (closes the link, or deletes key 0) and closes the map and programs.
 * Nothing here knows a type name: only the object's struct and the kernel's BTF decide.
 */
public final class KernelStructOps implements AutoCloseable {
    private final String name;
    private final KernelMap map;
    private final List<KernelProgram> programs;
    private int link;

    private KernelStructOps(String name, KernelMap map, List<KernelProgram> programs, int link) {
        this.name = name;
        this.map = map;
        this.programs = programs;
        this.link = link;
    }

    /** Registers struct_ops variable {@code variable} of {@code ko}'s object (its maps are {@code ko}'s). */
    public static KernelStructOps register(KernelObject ko, String variable) {
        BpfObject obj = ko.object();
        StructOpsSpec spec = obj.structOps(variable).orElseThrow(() ->
                new IllegalArgumentException(obj.name() + " has no struct_ops variable " + variable));
        Btf kb = KernelBtf.vmlinux();
        String type = spec.typeName();
        int typeId = kb.find(BtfKind.STRUCT, type).orElseThrow(() ->
                new IllegalArgumentException("this kernel has no struct " + type + " (no such struct_ops type here)"));
        int valueId = kb.find(BtfKind.STRUCT, "bpf_struct_ops_" + type).orElseThrow(() ->
                new IllegalArgumentException("this kernel has struct " + type + " but not as a struct_ops type (no struct bpf_struct_ops_" + type + ")"));
        BtfType.Struct kt = (BtfType.Struct) kb.type(typeId);
        BtfType.Struct vt = (BtfType.Struct) kb.type(valueId);
        int dataOff = member(vt, "data").bitOffset() / 8;
        BtfType.Struct ot = (BtfType.Struct) obj.btf().type(spec.typeId());
        byte[] odata = spec.data();
        ByteBuffer value = ByteBuffer.allocate(vt.size()).order(ByteOrder.LITTLE_ENDIAN);

        List<KernelProgram> progs = new ArrayList<>();
        KernelMap map = null;
        try {
            for (BtfType.Member om : ot.members()) {
                BtfType.Member km = kt.members().stream().filter(m -> m.name().equals(om.name())).findFirst().orElseThrow(() ->
                        new IllegalArgumentException("struct_ops " + variable + ": member " + om.name() + " is not in the kernel's struct " + type));
                if (km.bitfieldSize() != 0 || om.bitfieldSize() != 0)
                    throw new IllegalArgumentException("struct_ops " + variable + ": bitfield member " + om.name() + " is not supported");
                int at = dataOff + km.bitOffset() / 8;
                if (isFunctionPointer(kb, km.type())) {
                    String progName = spec.programs().get(om.name());
                    if (progName == null) continue;   // left NULL: the kernel's defaults or its check apply
                    ProgramSpec ps = obj.program(progName).orElseThrow(() ->
                            new IllegalArgumentException("struct_ops " + variable + "." + om.name() + ": no program " + progName));
                    KernelProgram kp = loadMember(ko, obj, ps, typeId, kt.members().indexOf(km));
                    progs.add(kp);
                    value.putLong(at, kp.fd());
                } else {
                    long ksize = kb.sizeOf(km.type()), osize = obj.btf().sizeOf(om.type());
                    if (ksize != osize)
                        throw new IllegalArgumentException("struct_ops " + variable + "." + om.name() + " has " + osize
                                + " bytes, the kernel's " + type + "." + km.name() + " has " + ksize);
                    value.put(at, odata, om.bitOffset() / 8, (int) osize);
                }
            }
            map = Bpf.createStructOpsMap(variable, vt.size(), spec.link() ? Bpf.BPF_F_LINK : 0, ko.btfFd(), valueId);
            map.update(new byte[4], value.array(), Bpf.BPF_ANY);
            int link = spec.link() ? Bpf.linkCreate(map.fd(), 0, structOpsAttachType(kb), 0) : -1;
            return new KernelStructOps(variable, map, progs, link);
        } catch (RuntimeException e) {
            if (map != null) map.close();
            progs.forEach(KernelProgram::close);
            throw e;
        }
    }

    private static KernelProgram loadMember(KernelObject ko, BpfObject obj, ProgramSpec ps, int typeId, int memberIndex) {
        if (!ps.kfuncs().isEmpty())
            throw new IllegalArgumentException("program " + ps.name() + " calls kfuncs " + ps.kfuncs() + ", which this loader does not resolve");
        byte[] insns = KernelCollection.withMapFds(ps.insns(), ko::mapFd);
        Bpf.ProgramLoad load = new Bpf.ProgramLoad(ps.type(), insns, obj.license(), ps.name())
                .withAttach(typeId, memberIndex).withBtf(ko.btfFd(), KernelObject.funcInfo(ps));
        return Bpf.loadProgram(ps.sleepable() ? load.withFlags(Bpf.BPF_F_SLEEPABLE) : load);
    }

    private static BtfType.Member member(BtfType.Struct s, String name) {
        return s.members().stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("struct " + s.name() + " has no member " + name));
    }

    private static boolean isFunctionPointer(Btf btf, int typeId) {
        return btf.resolved(typeId) instanceof BtfType.Ptr p && btf.resolved(p.target()) instanceof BtfType.FuncProto;
    }

    /** BPF_STRUCT_OPS of enum bpf_attach_type, from the kernel's own BTF (44 since 6.4). */
    static int structOpsAttachType(Btf kb) {
        return kb.find(BtfKind.ENUM, "bpf_attach_type")
                .map(id -> (BtfType.EnumType) kb.type(id))
                .flatMap(e -> e.values().stream().filter(v -> v.name().equals("BPF_STRUCT_OPS")).findFirst())
                .map(v -> (int) v.value())
                .orElseThrow(() -> new IllegalArgumentException("this kernel has no BPF_STRUCT_OPS attach type (links of struct_ops came in 6.4)"));
    }

    public String name() { return name; }
    public KernelMap map() { return map; }
    public List<KernelProgram> programs() { return List.copyOf(programs); }

    /** Unregisters (closes the link, or deletes the map's one value) and closes the map and the programs. */
    @Override
    public void close() {
        if (link >= 0) {
            Libc.close(link);
            link = -1;
        } else if (map != null) {
            map.delete(new byte[4]);
        }
        map.close();
        programs.forEach(KernelProgram::close);
    }
}
