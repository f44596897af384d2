// SPDX-License-Identifier: GPL-2.0
/*
 * Per-cpu state without atomics, as kernel programs keep it: the kernel runs a program with migration
 * disabled, so nothing else touches its CPU's slot while it runs. Each run marks its slot busy, counts
 * a collision if it finds it busy already, and increments the slot's counter with a plain load and
 * store spread over a short loop (a wide window for a lost update if two runs ever shared a slot).
 */
#include "ublk_bpf.h"

static void *(*bpf_map_lookup_percpu_elem)(void *map, const void *key, __u32 cpu) = (void *)195;

struct slot {
	__u64 busy;
	__u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slot);
} slots SEC(".maps");

/* runs that found their cpu's slot in use by another run (atomic: shared by all cpus) */
__u64 collisions;
/* runs whose bpf_get_smp_processor_id() was not the cpu of the slot they got (never expected) */
__u64 cpu_mismatch;

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(percpu_count_queue, struct ublk_bpf_io *io, unsigned int off)
{
	const struct ublksrv_io_desc *iod = ublk_bpf_get_iod(io);
	__u32 zero = 0, cpu = bpf_get_smp_processor_id();
	struct slot *s = bpf_map_lookup_elem(&slots, &zero);
	struct slot *mine = bpf_map_lookup_percpu_elem(&slots, &zero, cpu);
	__u64 c;
	int i;

	if (!s || !iod) {
		ublk_bpf_complete_io(io, -EINVAL);
		return UBLK_BPF_RET_QUEUED();
	}
	if (mine != s)
		__sync_fetch_and_add(&cpu_mismatch, 1);
	if (s->busy)
		__sync_fetch_and_add(&collisions, 1);
	s->busy = 1;
	c = s->count;
	for (i = 0; i < 32; i++)
		c += *(volatile __u64 *)&s->busy;   /* 1 each time, unless another run shares the slot */
	s->count = c - 31;
	s->busy = 0;
	ublk_bpf_complete_io(io, iod->nr_sectors << 9);
	return UBLK_BPF_RET_QUEUED();
}

SEC(".struct_ops.link")
struct ublk_bpf_ops percpu_count_ops = {
	.id = 42,
	.queue_io_cmd = (void *)percpu_count_queue,
};

char LICENSE[] SEC("license") = "GPL";
