// SPDX-License-Identifier: MIT
/*
 * kublk's stripe program (struct_ops id 32, bpf aio ops id 32), written for ublkctl after the RFC
 * selftests' conventions: stripe_map (dev_id -> {chunk_shift, nr_backfiles, fds[4]}) is filled
 * by the server before attach_dev; io_map (io key -> {ref, res}) counts the pieces of one I/O.
 *
 * Each call handles the device range from `off` to the next chunk boundary with one bpf aio and
 * returns CONTINUE with its length. The layout is kublk's: chunk c of the device lives on file
 * c % n at file chunk (c / n) + (c % n), so file i starts i chunks in. ublkctl's server side uses
 * the same layout while this object is attached (docs/rfc-selftests.md). The layout needs a power
 * of two files: attach_dev takes 1, 2 or 4.
 */
#include "vmlinux.h"
#include <linux/const.h>
#include <linux/errno.h>
#include <linux/falloc.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ublk_bpf.h"
#include "kublk_aio.h"

#define KUBLK_MAX_FILES 4

struct kublk_stripe {
	unsigned char chunk_shift;
	unsigned char nr_backfiles;
	int fds[KUBLK_MAX_FILES];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, unsigned int);		/* device id */
	__type(value, struct kublk_stripe);
} stripe_map SEC(".maps");

/* one I/O in flight: pieces not yet done (plus one while pieces are still being issued), first error */
struct kublk_io {
	unsigned int ref;
	int res;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, unsigned long long);	/* build_io_key() */
	__type(value, struct kublk_io);
} io_map SEC(".maps");

/*
 * ublkctl's "mixed" switch (not kublk's): a bitmask of 1 << UBLK_IO_OP_* whose I/Os go to the
 * userspace server whole, so that BPF and the server share the data, e.g. writes by the server
 * and reads by BPF. 0 (the default) keeps everything in BPF.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, unsigned int);
	__type(value, unsigned int);
} mix SEC(".maps");

/* drops one reference; the last one completes the I/O */
static inline void kublk_stripe_put(const struct ublk_bpf_io *io, struct kublk_io *st, int res)
{
	const struct ublksrv_io_desc *iod;

	if (!st)
		return;
	if (res < 0 && st->res >= 0)
		st->res = res;
	if (__sync_sub_and_fetch(&st->ref, 1))
		return;
	iod = ublk_bpf_get_iod(io);
	if (st->res < 0 || !iod)
		ublk_bpf_complete_io(io, st->res < 0 ? st->res : -EINVAL);
	else if ((iod->op_flags & 0xff) <= 1)
		ublk_bpf_complete_io(io, iod->nr_sectors << 9);
	else
		ublk_bpf_complete_io(io, 0);
}

static inline void kublk_stripe_aio_end(struct bpf_aio *aio, int res)
{
	struct ublk_bpf_io *io = ublk_bpf_acquire_io_from_aio(aio);
	unsigned long long key;

	if (io) {
		key = build_io_key(io);
		kublk_stripe_put(io, bpf_map_lookup_elem(&io_map, &key), res);
		ublk_bpf_release_io_from_aio(io);
	}
	ublk_bpf_dettach_and_complete_aio(aio);
	bpf_aio_release(aio);
}

SEC("struct_ops/bpf_aio_complete_cb")
void BPF_PROG(kublk_stripe_aio_done, struct bpf_aio *aio, long ret)
{
	kublk_stripe_aio_end(aio, ret);
}

SEC(".struct_ops.link")
struct bpf_aio_complete_ops kublk_stripe_aio_ops = {
	.id = 32,
	.bpf_aio_complete_cb = (void *)kublk_stripe_aio_done,
};

/*
 * One aio for [buf_off, buf_off + bytes) of the request on fd at pos (bytes 0: an fsync); takes a
 * reference first. Every aio is attached to the I/O, a zero-length one too: its completion finds
 * the I/O through it and drops the reference.
 */
static inline int kublk_stripe_piece(const struct ublk_bpf_io *io, struct kublk_io *st, int op,
				     unsigned int mode, int fd, unsigned long pos, unsigned int buf_off,
				     unsigned int bytes)
{
	struct bpf_aio *aio = bpf_aio_alloc(op, 0);
	int res;

	if (!aio)
		return -ENOMEM;
	res = ublk_bpf_attach_and_prep_aio(io, buf_off, bytes, aio);
	if (res < 0) {
		bpf_aio_release(aio);
		return res;
	}
	__sync_fetch_and_add(&st->ref, 1);
	res = bpf_aio_submit(aio, fd, pos, bytes, mode);
	if (res < 0) {
		bpf_printk("stripe: aio submit on fd %d failed %d", fd, res);
		kublk_stripe_aio_end(aio, res);
	}
	return 0;
}

SEC("struct_ops.s/ublk_bpf_queue_io_cmd_daemon")
ublk_bpf_return_t BPF_PROG(kublk_stripe_queue, struct ublk_bpf_io *io, unsigned int off)
{
	const struct ublksrv_io_desc *iod = ublk_bpf_get_iod(io);
	unsigned int dev = ublk_bpf_get_dev_id(io), mode, total, chunk, bytes, n, idx;
	unsigned long long key = build_io_key(io);
	const struct kublk_stripe *cfg;
	struct kublk_io fresh = { .ref = 1, .res = 0 };
	struct kublk_io *st;
	unsigned long pos, unit, file_pos;
	int op, res, i;

	if (!iod) {
		ublk_bpf_complete_io(io, -EINVAL);
		return ublk_bpf_return_val(UBLK_BPF_IO_QUEUED, 0);
	}
	cfg = bpf_map_lookup_elem(&stripe_map, &dev);
	if (!cfg) {
		bpf_printk("stripe: no entry for device %d in stripe_map", dev);
		ublk_bpf_complete_io(io, -EBADF);
		return ublk_bpf_return_val(UBLK_BPF_IO_QUEUED, 0);
	}
	if (off == 0) {
		unsigned int zero = 0, *redirect = bpf_map_lookup_elem(&mix, &zero);

		if (redirect && (*redirect & (1U << ((iod->op_flags & 0xff) & 31))))
			return ublk_bpf_return_val(UBLK_BPF_IO_REDIRECT, 0);
	}
	op = kublk_aio_op(iod, &mode);
	if (op < 0) {
		ublk_bpf_complete_io(io, op);
		return ublk_bpf_return_val(UBLK_BPF_IO_QUEUED, 0);
	}
	if (off == 0 && bpf_map_update_elem(&io_map, &key, &fresh, BPF_ANY)) {
		bpf_printk("stripe: io_map full, key %llx", key);
		ublk_bpf_complete_io(io, -ENOMEM);
		return ublk_bpf_return_val(UBLK_BPF_IO_QUEUED, 0);
	}
	st = bpf_map_lookup_elem(&io_map, &key);
	if (!st) {
		ublk_bpf_complete_io(io, -EINVAL);
		return ublk_bpf_return_val(UBLK_BPF_IO_QUEUED, 0);
	}
	n = cfg->nr_backfiles;
	if (op == BPF_AIO_OP_FS_FSYNC) {
		/* a flush syncs every file, then the I/O completes */
		for (i = 0; i < KUBLK_MAX_FILES; i++) {
			if (i >= n)
				break;
			res = kublk_stripe_piece(io, st, op, 0, cfg->fds[i], 0, 0, 0);
			if (res < 0 && st->res >= 0)
				st->res = res; /* this piece never started: only its error counts */
		}
		kublk_stripe_put(io, st, 0);
		return ublk_bpf_return_val(UBLK_BPF_IO_QUEUED, 0);
	}

	chunk = 1U << cfg->chunk_shift;
	total = iod->nr_sectors << 9;
	pos = (iod->start_sector << 9) + off;
	bytes = chunk - (pos & (chunk - 1));
	if (bytes > total - off)
		bytes = total - off;
	/* kublk's layout: units of n chunks; the chunk's index in its unit picks the file */
	unit = pos & ~((unsigned long)(n << cfg->chunk_shift) - 1);
	idx = ((pos & ~((unsigned long)chunk - 1)) - unit) >> cfg->chunk_shift;
	file_pos = unit / n + ((unsigned long)idx << cfg->chunk_shift) + (pos & (chunk - 1));
	res = kublk_stripe_piece(io, st, op, mode, cfg->fds[idx & (KUBLK_MAX_FILES - 1)], file_pos, off, bytes);
	if (res < 0 && st->res >= 0)
		st->res = res; /* the I/O ends with this error once the pieces in flight are done */
	if (off + bytes >= total) {
		kublk_stripe_put(io, st, 0); /* every piece issued */
		return ublk_bpf_return_val(UBLK_BPF_IO_QUEUED, 0);
	}
	return ublk_bpf_return_val(UBLK_BPF_IO_CONTINUE, bytes);
}

SEC("struct_ops/ublk_bpf_attach_dev")
int BPF_PROG(kublk_stripe_attach, int dev_id)
{
	const struct kublk_stripe *cfg = bpf_map_lookup_elem(&stripe_map, &dev_id);

	if (!cfg) {
		bpf_printk("stripe: no entry for device %d in stripe_map", dev_id);
		return -EINVAL;
	}
	if (cfg->nr_backfiles != 1 && cfg->nr_backfiles != 2 && cfg->nr_backfiles != 4)
		return -EINVAL;
	if (cfg->chunk_shift < 12 || cfg->chunk_shift > 20)
		return -EINVAL;
	return 0;
}

SEC("struct_ops/ublk_bpf_release_io_cmd")
void BPF_PROG(kublk_stripe_release, struct ublk_bpf_io *io)
{
	BPF_DBG("stripe: released, result %d", io->res);
}

SEC(".struct_ops.link")
struct ublk_bpf_ops kublk_stripe_ops = {
	.id = 32,
	.attach_dev = (void *)kublk_stripe_attach,
	.queue_io_cmd_daemon = (void *)kublk_stripe_queue,
	.release_io_cmd = (void *)kublk_stripe_release,
};

char LICENSE[] SEC("license") = "GPL";
