/* SPDX-License-Identifier: MIT */
/*
 * Per-queue statistics kept by ublkctl's bundled programs in the map "qstats",
 * so that `ublkctl map dump` and the monitor can show what BPF did per queue.
 */
#ifndef UBLKCTL_STATS_H
#define UBLKCTL_STATS_H

#include "ublk_bpf.h"

#define UBLKCTL_MAX_QUEUES 64

struct ublkctl_qstats {
	__u64 queued;        /* I/Os fully handled (or queued) in BPF */
	__u64 redirected;    /* I/Os handed to the userspace server */
	__u64 split;         /* CONTINUE returns (pieces of split I/Os) */
	__u64 bytes;         /* bytes handled in BPF */
	__u64 errors;        /* I/Os completed with an error by BPF */
	__u64 aio_submitted; /* bpf aio requests submitted */
	__u64 aio_completed; /* bpf aio completions seen */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, UBLKCTL_MAX_QUEUES);
	__type(key, __u32);
	__type(value, struct ublkctl_qstats);
} qstats SEC(".maps");

static __always_inline struct ublkctl_qstats *qstats_of(const struct ublk_bpf_io *io)
{
	__u32 q = (__u32)ublk_bpf_get_queue_id(io);

	return bpf_map_lookup_elem(&qstats, &q);
}

/* queues may run on several CPUs: count with atomic adds */
#define QSTAT_ADD(st, field, n)                                        \
	do {                                                           \
		if (st)                                                \
			__sync_fetch_and_add(&(st)->field, (n));       \
	} while (0)

/* count an I/O completed in BPF: an error, or one queued I/O of `len` bytes */
static __always_inline void qstats_done(struct ublkctl_qstats *st, int res, __u64 len)
{
	if (res < 0) {
		QSTAT_ADD(st, errors, 1);
	} else {
		QSTAT_ADD(st, queued, 1);
		QSTAT_ADD(st, bytes, len);
	}
}

#endif /* UBLKCTL_STATS_H */
