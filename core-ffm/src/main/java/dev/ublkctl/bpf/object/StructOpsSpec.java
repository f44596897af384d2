package dev.ublkctl.bpf.object;

import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A struct_ops variable ({@code SEC(".struct_ops")} or {@code SEC(".struct_ops.link")}): which
 * program fills which function-pointer member, and the values of its scalar members.
 *
 * @param name     the variable's name ("null_ops")
 * @param typeName the struct's name ("ublk_bpf_ops", "bpf_aio_complete_ops")
 * @param typeId   the struct's BTF type id in the object
 * @param link     true for {@code .struct_ops.link} (attached through a BPF link)
 * @param data     the variable's bytes as compiled (function pointers are zero)
 * @param programs member name to program name, in member order, for the members that are set
 * @param scalars  member name to value for integer and enum members
 */
public record StructOpsSpec(String name, String typeName, int typeId, String section, boolean link, byte[] data,
                            Map<String, String> programs, Map<String, Long> scalars) {
    public StructOpsSpec {
        data = data.clone();
        programs = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(programs));
        scalars = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(scalars));
    }

    @Override
    public byte[] data() { return data.clone(); }

    /** The {@code id} member (how a ublk device names the ops it attaches), if the struct has one. */
    public OptionalLong id() {
        Long v = scalars.get("id");
        return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }

    /** The program in member {@code member}, e.g. "queue_io_cmd". */
    public Optional<String> program(String member) { return Optional.ofNullable(programs.get(member)); }

    @Override
    public String toString() { return "StructOpsSpec[" + name + " struct " + typeName + " " + scalars + " " + programs + "]"; }
}
