// SPDX-License-Identifier: GPL-2.0
/* Misbehaving ublk_bpf_ops for the engine's tests: each id breaks one rule. */
#include "ublk_bpf.h"

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(bad_disposition, struct ublk_bpf_io *io, unsigned int off)
{
	return 7UL << UBLK_BPF_DISPOSITION_SHIFT;
}

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(continue_odd, struct ublk_bpf_io *io, unsigned int off)
{
	return UBLK_BPF_RET_CONTINUE(100);
}

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(continue_past_end, struct ublk_bpf_io *io, unsigned int off)
{
	return UBLK_BPF_RET_CONTINUE(1U << 30);
}

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(continue_zero, struct ublk_bpf_io *io, unsigned int off)
{
	return UBLK_BPF_RET_CONTINUE(0);
}

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(null_deref, struct ublk_bpf_io *io, unsigned int off)
{
	return *(volatile unsigned long *)(unsigned long)off;
}

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(forget, struct ublk_bpf_io *io, unsigned int off)
{
	return UBLK_BPF_RET_QUEUED();
}

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(spin, struct ublk_bpf_io *io, unsigned int off)
{
	volatile int x = 0;

	while (x == 0)
		;
	return UBLK_BPF_RET_QUEUED();
}

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(ok_then_error, struct ublk_bpf_io *io, unsigned int off)
{
	const struct ublksrv_io_desc *iod = ublk_bpf_get_iod(io);

	if (!iod)
		return UBLK_BPF_RET_QUEUED();
	ublk_bpf_complete_io(io, iod->nr_sectors << 9);
	ublk_bpf_complete_io(io, -EIO);
	ublk_bpf_complete_io(io, -ENOSPC);
	return UBLK_BPF_RET_QUEUED();
}

/* half in BPF (completed now), the rest redirected to the server */
SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(half_redirect, struct ublk_bpf_io *io, unsigned int off)
{
	const struct ublksrv_io_desc *iod = io->iod;
	unsigned int total = iod->nr_sectors << 9;

	if (off == 0 && total >= 1024)
		return UBLK_BPF_RET_CONTINUE(total / 2 & ~511U);
	ublk_bpf_complete_io(io, total);
	return UBLK_BPF_RET_REDIRECT();
}

#define OPS(var, num, prog)                        \
	SEC(".struct_ops.link")                    \
	struct ublk_bpf_ops var = {                \
		.id = num,                         \
		.queue_io_cmd = (void *)prog,      \
	}

OPS(bad_disposition_ops, 100, bad_disposition);
OPS(continue_odd_ops, 101, continue_odd);
OPS(continue_past_end_ops, 102, continue_past_end);
OPS(continue_zero_ops, 103, continue_zero);
OPS(null_deref_ops, 104, null_deref);
OPS(forget_ops, 105, forget);
OPS(spin_ops, 106, spin);
OPS(ok_then_error_ops, 107, ok_then_error);
OPS(half_redirect_ops, 108, half_redirect);

char LICENSE[] SEC("license") = "GPL";

/* id 109: counts the lifecycle callbacks in .bss so the test can see when the engine calls them */
__u64 attach_calls, detach_calls, release_calls, last_dev;

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(counting_queue, struct ublk_bpf_io *io, unsigned int off)
{
	const struct ublksrv_io_desc *iod = ublk_bpf_get_iod(io);

	if (iod)
		ublk_bpf_complete_io(io, iod->nr_sectors << 9);
	return UBLK_BPF_RET_QUEUED();
}

SEC("struct_ops/ublk_bpf_release_io_cmd")
void BPF_PROG(counting_release, struct ublk_bpf_io *io)
{
	__sync_fetch_and_add(&release_calls, 1);
}

SEC("struct_ops/ublk_bpf_attach_dev")
int BPF_PROG(counting_attach, int dev_id)
{
	__sync_fetch_and_add(&attach_calls, 1);
	last_dev = dev_id;
	return 0;
}

SEC("struct_ops/ublk_bpf_detach_dev")
void BPF_PROG(counting_detach, int dev_id)
{
	__sync_fetch_and_add(&detach_calls, 1);
}

SEC(".struct_ops.link")
struct ublk_bpf_ops counting_ops = {
	.id = 109,
	.queue_io_cmd = (void *)counting_queue,
	.release_io_cmd = (void *)counting_release,
	.attach_dev = (void *)counting_attach,
	.detach_dev = (void *)counting_detach,
};

/* id 110: checks the ublk_bpf_io the program sees: PREP set, ref 2, res 0, iod pointing at the descriptor */
SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(layout_check, struct ublk_bpf_io *io, unsigned int off)
{
	const struct ublksrv_io_desc *iod = io->iod;
	int ok = (io->flags & (1UL << UBLK_BPF_IO_PREP)) && !(io->flags & (1UL << UBLK_BPF_IO_COMPLETED)) &&
		 io->ref.refs == 2 && io->res == 0 && iod == ublk_bpf_get_iod(io) &&
		 ublksrv_get_op(iod) == UBLK_IO_OP_READ;

	ublk_bpf_complete_io(io, ok ? (int)(iod->nr_sectors << 9) : -ERANGE);
	/* after completing: COMPLETED set, res stored, one reference less */
	if (!(io->flags & (1UL << UBLK_BPF_IO_COMPLETED)) || io->ref.refs != 1 || io->res != (int)(iod->nr_sectors << 9))
		ublk_bpf_complete_io(io, -E2BIG);
	return UBLK_BPF_RET_QUEUED();
}

SEC(".struct_ops.link")
struct ublk_bpf_ops layout_check_ops = {
	.id = 110,
	.queue_io_cmd = (void *)layout_check,
};
