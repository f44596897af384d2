package dev.ublkctl.bpf.maps;

/** BPF map types ublkctl knows, with the kernel's {@code enum bpf_map_type} values. */
public enum MapType {
    HASH(1), ARRAY(2), PROG_ARRAY(3), PERF_EVENT_ARRAY(4), PERCPU_HASH(5), PERCPU_ARRAY(6),
    LRU_HASH(9), LRU_PERCPU_HASH(10), STRUCT_OPS(26), RINGBUF(27);

    public final int kernelId;

    MapType(int kernelId) { this.kernelId = kernelId; }

    public static MapType ofKernelId(int id) {
        for (MapType t : values()) if (t.kernelId == id) return t;
        throw new IllegalArgumentException("unsupported BPF map type " + id);
    }

    public boolean perCpu() { return this == PERCPU_ARRAY || this == PERCPU_HASH || this == LRU_PERCPU_HASH; }
}
