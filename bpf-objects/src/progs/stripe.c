// SPDX-License-Identifier: GPL-2.0
/*
 * stripe target in BPF: the device is striped over up to 4 backing files in
 * chunks of (1 << chunk_shift) bytes. queue_io_cmd_daemon handles one piece per
 * call, from `off` to the next chunk boundary, submits one bpf aio for it and
 * returns CONTINUE | piece bytes; the driver calls again at off + bytes.
 * A per-I/O record in stripe_inflight counts outstanding pieces (plus one
 * reference held until the last piece is queued); the last completion
 * completes the ublk I/O. FLUSH fsyncs every backing file.
 * Ops named in the map "mix" go to the server whole (mixed mode).
 *   id 32 stripe_ops, id 32 stripe_aio_ops
 */
#include "ublk_bpf.h"
#include "ublkctl_stats.h"
#include "ublkctl_aio.h"
#include "ublkctl_mix.h"
#include "ublkctl_stripe.h"

/* drop one reference of the I/O's record; the last one completes the ublk I/O */
static __always_inline void stripe_put(const struct ublk_bpf_io *io, __u64 key, int err)
{
	const struct ublksrv_io_desc *iod = io->iod;
	int res;

	if (!stripe_rec_put(key, err, &res))
		return;
	res = stripe_result(ublksrv_get_op(iod), res, iod->nr_sectors);
	qstats_done(qstats_of(io), res, iod->nr_sectors << 9);
	ublk_bpf_complete_io(io, res);
}

static __always_inline void stripe_finish_aio(struct bpf_aio *aio, long ret)
{
	struct ublk_bpf_io *io = ublk_bpf_acquire_io_from_aio(aio);

	if (io) {
		struct ublkctl_qstats *st = qstats_of(io);

		QSTAT_ADD(st, aio_completed, 1);
		stripe_put(io, build_io_key(io), ret < 0 ? (int)ret : 0);
		ublk_bpf_release_io_from_aio(io);
	}
	ublk_bpf_dettach_and_complete_aio(aio);
	bpf_aio_release(aio);
}

SEC("struct_ops/bpf_aio_complete_cb")
void BPF_PROG(stripe_aio_done, struct bpf_aio *aio, long ret)
{
	stripe_finish_aio(aio, ret);
}

SEC(".struct_ops.link")
struct bpf_aio_complete_ops stripe_aio_ops = {
	.id = 32,
	.bpf_aio_complete_cb = (void *)stripe_aio_done,
};

/*
 * Submit one aio for `bytes` of the I/O starting `buf_off` bytes into it.
 * The caller holds a reference for it in the record; on failure before the
 * aio is attached the caller drops it, afterwards the completion path does.
 */
static __always_inline int stripe_submit(const struct ublk_bpf_io *io, int op, unsigned int op_flags,
					 int fd, __u64 file_off, unsigned int bytes,
					 unsigned int buf_off, __u64 key)
{
	struct bpf_aio *aio = bpf_aio_alloc_sleepable(op, 0);
	int res;

	if (!aio)
		return -ENOMEM;
	res = ublk_bpf_attach_and_prep_aio(io, buf_off, bytes, aio);
	if (res < 0) {
		bpf_aio_release(aio);
		return res;
	}
	{
		struct ublkctl_qstats *st = qstats_of(io);

		QSTAT_ADD(st, aio_submitted, 1);
	}
	res = bpf_aio_submit(aio, fd, file_off, bytes, op_flags);
	if (res < 0)
		stripe_finish_aio(aio, res);
	return 0;
}

/* FLUSH: one fsync per backing file, all attached with zero bytes */
static __always_inline ublk_bpf_return_t stripe_flush(const struct ublk_bpf_io *io,
						      const struct stripe_config *cfg, __u64 key)
{
	int i;

	if (stripe_rec_start(key)) {
		ublk_bpf_complete_io(io, -ENOMEM);
		return UBLK_BPF_RET_QUEUED();
	}
	for (i = 0; i < STRIPE_MAX_FILES; i++) {
		int res;

		if (i >= cfg->nr_files)
			break;
		if (stripe_rec_get(key))
			break;
		res = stripe_submit(io, BPF_AIO_OP_FS_FSYNC, 0, cfg->fds[i], 0, 0, 0, key);
		if (res < 0)
			stripe_put(io, key, res);
	}
	stripe_put(io, key, 0);
	return UBLK_BPF_RET_QUEUED();
}

SEC("struct_ops.s/ublk_bpf_queue_io_cmd_daemon")
ublk_bpf_return_t BPF_PROG(stripe_queue_io, struct ublk_bpf_io *io, unsigned int off)
{
	const struct ublksrv_io_desc *iod = ublk_bpf_get_iod(io);
	__u32 dev_id = ublk_bpf_get_dev_id(io);
	const struct stripe_config *cfg;
	struct stripe_piece piece;
	unsigned int op_flags, total, bytes;
	__u64 key;
	int op, res;

	if (!iod) {
		ublk_bpf_complete_io(io, -EINVAL);
		return UBLK_BPF_RET_QUEUED();
	}
	cfg = bpf_map_lookup_elem(&stripe_cfg, &dev_id);
	if (off == 0 && mix_redirected(iod)) {
		/* an op the server serves (mixed mode): the whole I/O goes there */
		struct ublkctl_qstats *st = qstats_of(io);

		QSTAT_ADD(st, redirected, 1);
		return UBLK_BPF_RET_REDIRECT();
	}
	if (!cfg || !stripe_config_ok(cfg)) {
		if (off == 0) {
			struct ublkctl_qstats *st = qstats_of(io);

			QSTAT_ADD(st, redirected, 1);
			return UBLK_BPF_RET_REDIRECT();
		}
		/* the layout vanished in the middle of an I/O: fail the rest */
		ublk_bpf_complete_io(io, -EIO);
		return UBLK_BPF_RET_QUEUED();
	}
	op = ublkctl_aio_op(iod, &op_flags);
	if (op < 0) {
		ublk_bpf_complete_io(io, op);
		return UBLK_BPF_RET_QUEUED();
	}
	key = build_io_key(io);
	if (op == BPF_AIO_OP_FS_FSYNC)
		return stripe_flush(io, cfg, key);

	total = iod->nr_sectors << 9;
	if (off >= total) {
		ublk_bpf_complete_io(io, -EINVAL);
		return UBLK_BPF_RET_QUEUED();
	}
	stripe_piece_at(cfg, (iod->start_sector << 9) + off, total - off, &piece);
	bytes = piece.bytes;

	res = off == 0 ? stripe_rec_start(key) : 0;
	if (!res)
		res = stripe_rec_get(key);
	if (res) {
		ublk_bpf_complete_io(io, res);
		return UBLK_BPF_RET_QUEUED();
	}
	res = stripe_submit(io, op, op_flags, cfg->fds[piece.idx & (STRIPE_MAX_FILES - 1)],
			    piece.file_off, bytes, off, key);
	if (res < 0)
		stripe_put(io, key, res);
	if (bytes < total) {
		struct ublkctl_qstats *st = qstats_of(io);

		QSTAT_ADD(st, split, 1);
	}
	/* last piece queued: drop the reference that kept the I/O open */
	if (off + bytes == total)
		stripe_put(io, key, 0);
	return UBLK_BPF_RET_CONTINUE(bytes);
}

SEC("struct_ops/ublk_bpf_release_io_cmd")
void BPF_PROG(stripe_release_io, struct ublk_bpf_io *io)
{
}

SEC("struct_ops/ublk_bpf_attach_dev")
int BPF_PROG(stripe_attach_dev, int dev_id)
{
	__u32 key = dev_id;
	const struct stripe_config *cfg = bpf_map_lookup_elem(&stripe_cfg, &key);

	if (!cfg || !stripe_config_ok(cfg))
		return -EINVAL;
	return 0;
}

SEC(".struct_ops.link")
struct ublk_bpf_ops stripe_ops = {
	.id = 32,
	.queue_io_cmd_daemon = (void *)stripe_queue_io,
	.release_io_cmd = (void *)stripe_release_io,
	.attach_dev = (void *)stripe_attach_dev,
};

char LICENSE[] SEC("license") = "GPL";
