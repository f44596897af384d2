// SPDX-License-Identifier: GPL-2.0
/*
 * loop target in BPF: every I/O becomes one bpf aio on a backing file.
 *   id 16 loop_ops      queue_io_cmd_daemon (sleepable, runs in the server task,
 *                       so the backing fd from loop_files is valid there)
 *   id 16 loop_aio_ops  bpf_aio_complete_ops: completes the ublk I/O with the aio result
 * READ/WRITE -> aio read/write, FLUSH -> aio fsync, DISCARD/WRITE_SAME -> punch hole,
 * WRITE_ZEROES -> zero range. Ops named in the map "mix" go to the server (mixed mode).
 */
#include "ublk_bpf.h"
#include "ublkctl_stats.h"
#include "ublkctl_aio.h"
#include "ublkctl_mix.h"

struct loop_backing {
	int fd;         /* backing file descriptor, valid in the server task */
	__u32 flags;    /* reserved, 0 */
};

/* dev_id -> backing file, written by the server before START_DEV */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, struct loop_backing);
} loop_files SEC(".maps");

/* end of one aio: complete the ublk I/O, drop the aio's hold on it, free the aio */
static __always_inline void loop_finish_aio(struct bpf_aio *aio, long ret)
{
	struct ublk_bpf_io *io = ublk_bpf_acquire_io_from_aio(aio);

	if (io) {
		struct ublkctl_qstats *st = qstats_of(io);

		QSTAT_ADD(st, aio_completed, 1);
		if (ret < 0) {
			QSTAT_ADD(st, errors, 1);
		} else {
			QSTAT_ADD(st, queued, 1);
			QSTAT_ADD(st, bytes, io->iod->nr_sectors << 9);
		}
		ublk_bpf_complete_io(io, (int)ret);
		ublk_bpf_release_io_from_aio(io);
	}
	ublk_bpf_dettach_and_complete_aio(aio);
	bpf_aio_release(aio);
}

SEC("struct_ops/bpf_aio_complete_cb")
void BPF_PROG(loop_aio_done, struct bpf_aio *aio, long ret)
{
	loop_finish_aio(aio, ret);
}

SEC(".struct_ops.link")
struct bpf_aio_complete_ops loop_aio_ops = {
	.id = 16,
	.bpf_aio_complete_cb = (void *)loop_aio_done,
};

static __always_inline int loop_submit(const struct ublk_bpf_io *io,
				       const struct ublksrv_io_desc *iod, int fd)
{
	unsigned int op_flags, bytes = iod->nr_sectors << 9;
	struct bpf_aio *aio;
	int op, res;

	op = ublkctl_aio_op(iod, &op_flags);
	if (op < 0)
		return op;
	aio = bpf_aio_alloc_sleepable(op, 0);
	if (!aio)
		return -ENOMEM;
	res = ublk_bpf_attach_and_prep_aio(io, 0, bytes, aio);
	if (res < 0) {
		bpf_aio_release(aio);
		return res;
	}
	{
		struct ublkctl_qstats *st = qstats_of(io);

		QSTAT_ADD(st, aio_submitted, 1);
	}
	res = bpf_aio_submit(aio, fd, iod->start_sector << 9, bytes, op_flags);
	if (res < 0)
		/* the aio is attached: finishing it completes the I/O with the error */
		loop_finish_aio(aio, res);
	return 0;
}

SEC("struct_ops.s/ublk_bpf_queue_io_cmd_daemon")
ublk_bpf_return_t BPF_PROG(loop_queue_io, struct ublk_bpf_io *io, unsigned int off)
{
	const struct ublksrv_io_desc *iod = ublk_bpf_get_iod(io);
	__u32 dev_id = ublk_bpf_get_dev_id(io);
	struct loop_backing *backing;
	int res;

	if (!iod) {
		ublk_bpf_complete_io(io, -EINVAL);
		return UBLK_BPF_RET_QUEUED();
	}
	backing = bpf_map_lookup_elem(&loop_files, &dev_id);
	if (!backing || mix_redirected(iod)) {
		/* no backing file configured, or an op the server serves (mix): redirect */
		struct ublkctl_qstats *st = qstats_of(io);

		QSTAT_ADD(st, redirected, 1);
		return UBLK_BPF_RET_REDIRECT();
	}
	res = loop_submit(io, iod, backing->fd);
	if (res < 0) {
		struct ublkctl_qstats *st = qstats_of(io);

		QSTAT_ADD(st, errors, 1);
		ublk_bpf_complete_io(io, res);
	}
	return UBLK_BPF_RET_QUEUED();
}

SEC("struct_ops/ublk_bpf_release_io_cmd")
void BPF_PROG(loop_release_io, struct ublk_bpf_io *io)
{
}

SEC("struct_ops/ublk_bpf_attach_dev")
int BPF_PROG(loop_attach_dev, int dev_id)
{
	__u32 key = dev_id;
	struct loop_backing *backing = bpf_map_lookup_elem(&loop_files, &key);

	if (!backing || backing->fd < 0)
		return -EINVAL;
	return 0;
}

SEC(".struct_ops.link")
struct ublk_bpf_ops loop_ops = {
	.id = 16,
	.queue_io_cmd_daemon = (void *)loop_queue_io,
	.release_io_cmd = (void *)loop_release_io,
	.attach_dev = (void *)loop_attach_dev,
};

char LICENSE[] SEC("license") = "GPL";
