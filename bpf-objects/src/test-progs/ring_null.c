// SPDX-License-Identifier: GPL-2.0
/*
 * A null target that logs every I/O to a ring buffer: a ublk program with a
 * BPF_MAP_TYPE_RINGBUF, for the tests of `ublkctl map dump` on ring buffers.
 * Records that do not fit (the reader lags) are counted in .bss instead.
 */
#include "ublk_bpf.h"

static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;

struct io_record {
	__u32 op;
	__u32 nr_sectors;
	__u64 start_sector;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16384);
} io_log SEC(".maps");

__u64 dropped;

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(ring_null_queue_io, struct ublk_bpf_io *io, unsigned int off)
{
	const struct ublksrv_io_desc *iod = ublk_bpf_get_iod(io);
	struct io_record *r;

	if (!iod) {
		ublk_bpf_complete_io(io, -EINVAL);
		return UBLK_BPF_RET_QUEUED();
	}
	r = bpf_ringbuf_reserve(&io_log, sizeof(*r), 0);
	if (r) {
		r->op = iod->op_flags & 0xff;
		r->nr_sectors = iod->nr_sectors;
		r->start_sector = iod->start_sector;
		bpf_ringbuf_submit(r, 0);
	} else {
		__sync_fetch_and_add(&dropped, 1);
	}
	ublk_bpf_complete_io(io, iod->nr_sectors << 9);
	return UBLK_BPF_RET_QUEUED();
}

SEC(".struct_ops.link")
struct ublk_bpf_ops ring_null_ops = {
	.id = 0,
	.queue_io_cmd = (void *)ring_null_queue_io,
};

char LICENSE[] SEC("license") = "GPL";
