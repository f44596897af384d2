// SPDX-License-Identifier: GPL-2.0
/*
 * A loop target whose aio is submitted from queue_io_cmd (not the sleepable daemon variant), so in
 * ublkctl's emulated driver it runs in the submitter's thread: the aio leave from there and complete
 * through bpf_aio_complete_ops in the serving thread.
 *   id 40 submit_aio_ops  every op through bpf aio from queue_io_cmd
 *   id 41 split_aio_ops   the same in 4 KiB pieces: CONTINUE per piece, one aio each, and the
 *                         last piece (off + 4096 >= len) REDIRECTed to the server when
 *                         redirect_tail[0] is set
 */
#include "ublk_bpf.h"
#include "ublkctl_aio.h"

struct loop_backing {
	int fd;
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct loop_backing);
} loop_files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} redirect_tail SEC(".maps");

/* one aio's part of the request: the I/O completes when its last reference drops */
SEC("struct_ops/bpf_aio_complete_cb")
void BPF_PROG(submit_aio_done, struct bpf_aio *aio, long ret)
{
	struct ublk_bpf_io *io = ublk_bpf_acquire_io_from_aio(aio);

	if (io) {
		if (ret < 0)
			ublk_bpf_complete_io(io, (int)ret);
		ublk_bpf_release_io_from_aio(io);
	}
	ublk_bpf_dettach_and_complete_aio(aio);
	bpf_aio_release(aio);
}

SEC(".struct_ops.link")
struct bpf_aio_complete_ops submit_aio_cb = {
	.id = 40,
	.bpf_aio_complete_cb = (void *)submit_aio_done,
};

SEC(".struct_ops.link")
struct bpf_aio_complete_ops split_aio_cb = {
	.id = 41,
	.bpf_aio_complete_cb = (void *)submit_aio_done,
};

/* submits [off, off + bytes) of the request as one aio; < 0 on failure (nothing attached then) */
static __always_inline int piece(const struct ublk_bpf_io *io, const struct ublksrv_io_desc *iod,
				 unsigned int off, unsigned int bytes)
{
	__u32 dev_id = ublk_bpf_get_dev_id(io);
	struct loop_backing *b = bpf_map_lookup_elem(&loop_files, &dev_id);
	unsigned int op_flags;
	struct bpf_aio *aio;
	int op, res;

	if (!b)
		return -EBADF;
	op = ublkctl_aio_op(iod, &op_flags);
	if (op < 0)
		return op;
	aio = bpf_aio_alloc(op, 0);
	if (!aio)
		return -ENOMEM;
	res = ublk_bpf_attach_and_prep_aio(io, off, bytes, aio);
	if (res < 0) {
		bpf_aio_release(aio);
		return res;
	}
	res = bpf_aio_submit(aio, b->fd, (iod->start_sector << 9) + off, bytes, op_flags);
	if (res < 0) {
		ublk_bpf_dettach_and_complete_aio(aio);
		bpf_aio_release(aio);
	}
	return res;
}

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(submit_aio_queue, struct ublk_bpf_io *io, unsigned int off)
{
	const struct ublksrv_io_desc *iod = ublk_bpf_get_iod(io);
	int res;

	if (!iod) {
		ublk_bpf_complete_io(io, -EINVAL);
		return UBLK_BPF_RET_QUEUED();
	}
	res = piece(io, iod, 0, iod->nr_sectors << 9);
	/* success: the aio holds the I/O; the result is the request's length unless an aio fails */
	ublk_bpf_complete_io(io, res < 0 ? res : (int)(iod->nr_sectors << 9));
	return UBLK_BPF_RET_QUEUED();
}

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(split_aio_queue, struct ublk_bpf_io *io, unsigned int off)
{
	const struct ublksrv_io_desc *iod = ublk_bpf_get_iod(io);
	unsigned int len, bytes;
	__u32 zero = 0, *tail = bpf_map_lookup_elem(&redirect_tail, &zero);
	int res;

	if (!iod) {
		ublk_bpf_complete_io(io, -EINVAL);
		return UBLK_BPF_RET_QUEUED();
	}
	len = iod->nr_sectors << 9;
	if (ublksrv_get_op(iod) != UBLK_IO_OP_READ && ublksrv_get_op(iod) != UBLK_IO_OP_WRITE)
		return UBLK_BPF_RET_REDIRECT();
	bytes = len - off > 4096 ? 4096 : len - off;
	if (tail && *tail && off > 0 && off + bytes >= len) {
		/* the last piece goes to the server; the program's part is complete */
		ublk_bpf_complete_io(io, len);
		return UBLK_BPF_RET_REDIRECT();
	}
	res = piece(io, iod, off, bytes);
	if (res < 0) {
		ublk_bpf_complete_io(io, res);
		return UBLK_BPF_RET_QUEUED();
	}
	if (off + bytes >= len) {
		ublk_bpf_complete_io(io, len);
		return UBLK_BPF_RET_QUEUED();
	}
	return UBLK_BPF_RET_CONTINUE(bytes);
}

SEC(".struct_ops.link")
struct ublk_bpf_ops submit_aio_ops = {
	.id = 40,
	.queue_io_cmd = (void *)submit_aio_queue,
};

SEC(".struct_ops.link")
struct ublk_bpf_ops split_aio_ops = {
	.id = 41,
	.queue_io_cmd = (void *)split_aio_queue,
};

char LICENSE[] SEC("license") = "GPL";
