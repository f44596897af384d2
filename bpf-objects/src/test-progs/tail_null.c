// SPDX-License-Identifier: GPL-2.0
/*
 * A null target whose queue_io_cmd dispatches on the I/O's op with a tail
 * call: reads and writes go to their own programs through a program array
 * filled in C (.values), other ops complete in the entry program. For the
 * tests of tail calls through the engine (the program array filled by the
 * loader, the struct_ops arguments handed on as the context).
 */
#include "ublk_bpf.h"

static long (*bpf_tail_call)(void *ctx, void *prog_array, __u32 index) = (void *)12;

__u64 reads, writes, others;

static __always_inline ublk_bpf_return_t complete(struct ublk_bpf_io *io)
{
	const struct ublksrv_io_desc *iod = ublk_bpf_get_iod(io);

	ublk_bpf_complete_io(io, iod ? (int)(iod->nr_sectors << 9) : -EINVAL);
	return UBLK_BPF_RET_QUEUED();
}

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(tail_read, struct ublk_bpf_io *io, unsigned int off)
{
	__sync_fetch_and_add(&reads, 1);
	return complete(io);
}

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(tail_write, struct ublk_bpf_io *io, unsigned int off)
{
	__sync_fetch_and_add(&writes, 1);
	return complete(io);
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 8);
	__uint(key_size, sizeof(__u32));
	__array(values, ublk_bpf_return_t (unsigned long long *));
} by_op SEC(".maps") = {
	.values = {
		[UBLK_IO_OP_READ] = (void *)&tail_read,
		[UBLK_IO_OP_WRITE] = (void *)&tail_write,
	},
};

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(tail_queue_io, struct ublk_bpf_io *io, unsigned int off)
{
	const struct ublksrv_io_desc *iod = ublk_bpf_get_iod(io);

	if (iod)
		bpf_tail_call(ctx, &by_op, iod->op_flags & 0xff);
	__sync_fetch_and_add(&others, 1);
	return complete(io);
}

SEC(".struct_ops.link")
struct ublk_bpf_ops tail_null_ops = {
	.id = 0,
	.queue_io_cmd = (void *)tail_queue_io,
};

char LICENSE[] SEC("license") = "GPL";
