/* SPDX-License-Identifier: MIT */
/*
 * Mixed mode for the loop and stripe programs: the map "mix" (one entry) names the ublk ops
 * whose I/O goes to the userspace server instead of bpf aio, e.g.
 *   ublkctl map update -n ID mix 0 2      # WRITE (op 1) to the server, the rest in BPF
 * 0 (the default) keeps every I/O in BPF.
 */
#ifndef UBLKCTL_MIX_H
#define UBLKCTL_MIX_H

#include "ublk_bpf.h"

struct ublkctl_mix {
	__u32 redirect_ops;   /* bitmask of 1 << UBLK_IO_OP_* served by the server */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ublkctl_mix);
} mix SEC(".maps");

/* whether this I/O's op is one the server serves */
static __always_inline int mix_redirected(const struct ublksrv_io_desc *iod)
{
	__u32 zero = 0;
	struct ublkctl_mix *m = bpf_map_lookup_elem(&mix, &zero);

	return m && (m->redirect_ops & (1U << (ublksrv_get_op(iod) & 31)));
}

#endif
