package dev.ublkctl.bpf.kernel;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The members of {@code union bpf_attr} ublkctl uses, one named layout per command, and the
 * info structs. The union is passed to the kernel at {@link #SIZE} bytes, zero-filled past the
 * member, as the kernel requires.
 */
final class BpfAttr {
    private BpfAttr() {}

    /** Size handed to bpf(2): large enough for every member used here. */
    static final long SIZE = 160;

    static final StructLayout MAP_CREATE = MemoryLayout.structLayout(
            JAVA_INT.withName("map_type"), JAVA_INT.withName("key_size"), JAVA_INT.withName("value_size"),
            JAVA_INT.withName("max_entries"), JAVA_INT.withName("map_flags"), JAVA_INT.withName("inner_map_fd"),
            JAVA_INT.withName("numa_node"), MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("map_name"),
            JAVA_INT.withName("map_ifindex"), JAVA_INT.withName("btf_fd"), JAVA_INT.withName("btf_key_type_id"),
            JAVA_INT.withName("btf_value_type_id"), JAVA_INT.withName("btf_vmlinux_value_type_id"));

    static final StructLayout MAP_ELEM = MemoryLayout.structLayout(
            JAVA_INT.withName("map_fd"), JAVA_INT.withName("pad"), JAVA_LONG.withName("key"),
            JAVA_LONG.withName("value"), JAVA_LONG.withName("flags"));

    static final StructLayout PROG_LOAD = MemoryLayout.structLayout(
            JAVA_INT.withName("prog_type"), JAVA_INT.withName("insn_cnt"), JAVA_LONG.withName("insns"),
            JAVA_LONG.withName("license"), JAVA_INT.withName("log_level"), JAVA_INT.withName("log_size"),
            JAVA_LONG.withName("log_buf"), JAVA_INT.withName("kern_version"), JAVA_INT.withName("prog_flags"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("prog_name"), JAVA_INT.withName("prog_ifindex"),
            JAVA_INT.withName("expected_attach_type"), JAVA_INT.withName("prog_btf_fd"),
            JAVA_INT.withName("func_info_rec_size"), JAVA_LONG.withName("func_info"), JAVA_INT.withName("func_info_cnt"),
            JAVA_INT.withName("line_info_rec_size"), JAVA_LONG.withName("line_info"), JAVA_INT.withName("line_info_cnt"),
            JAVA_INT.withName("attach_btf_id"), JAVA_INT.withName("attach_prog_fd"), JAVA_INT.withName("core_relo_cnt"),
            JAVA_LONG.withName("fd_array"), JAVA_LONG.withName("core_relos"), JAVA_INT.withName("core_relo_rec_size"),
            JAVA_INT.withName("log_true_size"));

    static final StructLayout OBJ = MemoryLayout.structLayout(
            JAVA_LONG.withName("pathname"), JAVA_INT.withName("bpf_fd"), JAVA_INT.withName("file_flags"));

    static final StructLayout TEST_RUN = MemoryLayout.structLayout(
            JAVA_INT.withName("prog_fd"), JAVA_INT.withName("retval"), JAVA_INT.withName("data_size_in"),
            JAVA_INT.withName("data_size_out"), JAVA_LONG.withName("data_in"), JAVA_LONG.withName("data_out"),
            JAVA_INT.withName("repeat"), JAVA_INT.withName("duration"), JAVA_INT.withName("ctx_size_in"),
            JAVA_INT.withName("ctx_size_out"), JAVA_LONG.withName("ctx_in"), JAVA_LONG.withName("ctx_out"),
            JAVA_INT.withName("flags"), JAVA_INT.withName("cpu"), JAVA_INT.withName("batch_size"));

    static final StructLayout INFO = MemoryLayout.structLayout(
            JAVA_INT.withName("bpf_fd"), JAVA_INT.withName("info_len"), JAVA_LONG.withName("info"));

    static final StructLayout BTF_LOAD = MemoryLayout.structLayout(
            JAVA_LONG.withName("btf"), JAVA_LONG.withName("btf_log_buf"), JAVA_INT.withName("btf_size"),
            JAVA_INT.withName("btf_log_size"), JAVA_INT.withName("btf_log_level"), JAVA_INT.withName("btf_log_true_size"));

    /** The link_create member up to its flags (the per-type unions after it are left zero). */
    static final StructLayout LINK_CREATE = MemoryLayout.structLayout(
            JAVA_INT.withName("prog_fd"), JAVA_INT.withName("target_fd"), JAVA_INT.withName("attach_type"),
            JAVA_INT.withName("flags"));

    static final StructLayout ENABLE_STATS = MemoryLayout.structLayout(JAVA_INT.withName("type"));

    /** struct bpf_prog_info, up to the members read here. */
    static final StructLayout PROG_INFO = MemoryLayout.structLayout(
            JAVA_INT.withName("type"), JAVA_INT.withName("id"), MemoryLayout.sequenceLayout(8, JAVA_BYTE).withName("tag"),
            JAVA_INT.withName("jited_prog_len"), JAVA_INT.withName("xlated_prog_len"),
            JAVA_LONG.withName("jited_prog_insns"), JAVA_LONG.withName("xlated_prog_insns"), JAVA_LONG.withName("load_time"),
            JAVA_INT.withName("created_by_uid"), JAVA_INT.withName("nr_map_ids"), JAVA_LONG.withName("map_ids"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("name"), JAVA_INT.withName("ifindex"),
            JAVA_INT.withName("gpl_compatible"), JAVA_LONG.withName("netns_dev"), JAVA_LONG.withName("netns_ino"),
            JAVA_INT.withName("nr_jited_ksyms"), JAVA_INT.withName("nr_jited_func_lens"), JAVA_LONG.withName("jited_ksyms"),
            JAVA_LONG.withName("jited_func_lens"), JAVA_INT.withName("btf_id"), JAVA_INT.withName("func_info_rec_size"),
            JAVA_LONG.withName("func_info"), JAVA_INT.withName("nr_func_info"), JAVA_INT.withName("nr_line_info"),
            JAVA_LONG.withName("line_info"), JAVA_LONG.withName("jited_line_info"), JAVA_INT.withName("nr_jited_line_info"),
            JAVA_INT.withName("line_info_rec_size"), JAVA_INT.withName("jited_line_info_rec_size"),
            JAVA_INT.withName("nr_prog_tags"), JAVA_LONG.withName("prog_tags"), JAVA_LONG.withName("run_time_ns"),
            JAVA_LONG.withName("run_cnt"), JAVA_LONG.withName("recursion_misses"), JAVA_INT.withName("verified_insns"),
            JAVA_INT.withName("attach_btf_obj_id"), JAVA_INT.withName("attach_btf_id"), JAVA_INT.withName("pad"));

    /** struct bpf_map_info. */
    static final StructLayout MAP_INFO = MemoryLayout.structLayout(
            JAVA_INT.withName("type"), JAVA_INT.withName("id"), JAVA_INT.withName("key_size"),
            JAVA_INT.withName("value_size"), JAVA_INT.withName("max_entries"), JAVA_INT.withName("map_flags"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("name"), JAVA_INT.withName("ifindex"),
            JAVA_INT.withName("btf_vmlinux_value_type_id"), JAVA_LONG.withName("netns_dev"), JAVA_LONG.withName("netns_ino"),
            JAVA_INT.withName("btf_id"), JAVA_INT.withName("btf_key_type_id"), JAVA_INT.withName("btf_value_type_id"),
            JAVA_INT.withName("pad"), JAVA_LONG.withName("map_extra"));

    static long off(StructLayout l, String name) { return l.byteOffset(groupElement(name)); }
}
