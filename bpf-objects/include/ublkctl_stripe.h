/* SPDX-License-Identifier: MIT */
/*
 * The stripe layout, shared by stripe.c (the shipped program) and
 * test-progs/ublk_logic.c (the same logic on a kernel without the RFC):
 * the device is striped over up to STRIPE_MAX_FILES backing files in chunks of
 * (1 << chunk_shift) bytes; the server writes each device's layout into
 * stripe_cfg before START_DEV, and stripe_inflight counts an I/O's pieces.
 */
#ifndef UBLKCTL_STRIPE_H
#define UBLKCTL_STRIPE_H

#include "ublk_bpf.h"

#define STRIPE_MAX_FILES 4

struct stripe_config {
	__u32 chunk_shift;            /* chunk size = 1 << chunk_shift, 12..30 */
	__u32 nr_files;               /* 1..STRIPE_MAX_FILES */
	int fds[STRIPE_MAX_FILES];    /* backing fds, valid in the server task */
};

/* dev_id -> stripe layout, written by the server before START_DEV */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, struct stripe_config);
} stripe_cfg SEC(".maps");

struct stripe_io {
	__u32 ref;   /* pieces in flight + 1 until the last piece is queued */
	int res;     /* first error, or 0 */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);   /* the I/O's key: dev, queue, tag */
	__type(value, struct stripe_io);
} stripe_inflight SEC(".maps");

static __always_inline bool stripe_config_ok(const struct stripe_config *cfg)
{
	return cfg->nr_files >= 1 && cfg->nr_files <= STRIPE_MAX_FILES &&
	       cfg->chunk_shift >= 12 && cfg->chunk_shift <= 30;
}

/* one piece of an I/O: from byte `pos` of the device to the end of its chunk,
 * or to the end of the I/O (`left` bytes on) */
struct stripe_piece {
	__u64 file_off;   /* where in its file */
	unsigned int bytes;
	unsigned int idx; /* which file */
};

static __always_inline void stripe_piece_at(const struct stripe_config *cfg, __u64 pos, unsigned int left,
					    struct stripe_piece *p)
{
	unsigned int shift = cfg->chunk_shift, nr = cfg->nr_files;
	__u64 chunk = 1ULL << shift, chunk_no = pos >> shift;

	p->bytes = chunk - (pos & (chunk - 1));
	if (p->bytes > left)
		p->bytes = left;
	p->idx = chunk_no % nr;
	p->file_off = ((chunk_no / nr) << shift) + (pos & (chunk - 1));
}

/* an I/O's record, holding the reference its queueing keeps until the last piece is queued */
static __always_inline int stripe_rec_start(__u64 key)
{
	struct stripe_io rec = { .ref = 1, .res = 0 };

	return bpf_map_update_elem(&stripe_inflight, &key, &rec, BPF_ANY) ? -ENOMEM : 0;
}

/* one more piece in flight; -EIO if the record is gone */
static __always_inline int stripe_rec_get(__u64 key)
{
	struct stripe_io *pv = bpf_map_lookup_elem(&stripe_inflight, &key);

	if (!pv)
		return -EIO;
	__sync_fetch_and_add(&pv->ref, 1);
	return 0;
}

/* drops one reference with the piece's error; 1, with the I/O's first error (or 0) in
 * *res, when it was the last (the record is gone then) */
static __always_inline int stripe_rec_put(__u64 key, int err, int *res)
{
	struct stripe_io *pv = bpf_map_lookup_elem(&stripe_inflight, &key);

	if (!pv)
		return 0;
	if (err < 0)
		pv->res = err;
	if (__sync_sub_and_fetch(&pv->ref, 1))
		return 0;
	*res = pv->res;
	bpf_map_delete_elem(&stripe_inflight, &key);
	return 1;
}

/* what a finished I/O completes with: its first error, else its length for a read or write */
static __always_inline int stripe_result(__u8 op, int res, __u32 nr_sectors)
{
	if (res >= 0 && (op == UBLK_IO_OP_READ || op == UBLK_IO_OP_WRITE))
		return nr_sectors << 9;
	return res;
}

#endif
