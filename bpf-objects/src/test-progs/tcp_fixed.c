// SPDX-License-Identifier: GPL-2.0
/*
 * A TCP congestion control as a struct_ops object, for the test of
 * ublkctl's generic struct_ops loader on the host kernel: the congestion
 * window stays where TCP sets it at the start (ssthresh and undo give a fixed
 * 10 segments, cong_avoid does not grow it), and every callback counts its
 * calls (and cong_avoid the acked segments) in an array map the test reads.
 */
#include "ublk_bpf.h"

struct sock;

/*
 * The members this object fills. Only their names have to match the
 * kernel's struct tcp_congestion_ops: the loader places each one at the
 * kernel's offset, found in /sys/kernel/btf/vmlinux.
 */
struct tcp_congestion_ops {
	__u32 (*ssthresh)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
	__u32 (*undo_cwnd)(struct sock *sk);
	void (*init)(struct sock *sk);
	void (*release)(struct sock *sk);
	char name[16];
};

enum {
	CNT_INIT,
	CNT_RELEASE,
	CNT_CONG_AVOID,
	CNT_ACKED,
	CNT_SSTHRESH,
	CNT_UNDO,
	CNT_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} cc_counters SEC(".maps");

static __always_inline void count(__u32 k, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&cc_counters, &k);

	if (v)
		__sync_fetch_and_add(v, n);
}

#define FIXED_CWND 10

SEC("struct_ops/fixed_init")
void BPF_PROG(fixed_init, struct sock *sk)
{
	count(CNT_INIT, 1);
}

SEC("struct_ops/fixed_release")
void BPF_PROG(fixed_release, struct sock *sk)
{
	count(CNT_RELEASE, 1);
}

SEC("struct_ops/fixed_cong_avoid")
void BPF_PROG(fixed_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	count(CNT_CONG_AVOID, 1);
	count(CNT_ACKED, acked);
}

SEC("struct_ops/fixed_ssthresh")
__u32 BPF_PROG(fixed_ssthresh, struct sock *sk)
{
	count(CNT_SSTHRESH, 1);
	return FIXED_CWND;
}

SEC("struct_ops/fixed_undo_cwnd")
__u32 BPF_PROG(fixed_undo_cwnd, struct sock *sk)
{
	count(CNT_UNDO, 1);
	return FIXED_CWND;
}

SEC(".struct_ops.link")
struct tcp_congestion_ops ublkctl_fixed = {
	.init = (void *)fixed_init,
	.release = (void *)fixed_release,
	.cong_avoid = (void *)fixed_cong_avoid,
	.ssthresh = (void *)fixed_ssthresh,
	.undo_cwnd = (void *)fixed_undo_cwnd,
	.name = "ublkctl_fixed",
};

/* the same callbacks registered the older way: by the map update itself, without a link */
SEC(".struct_ops")
struct tcp_congestion_ops ublkctl_fixed_m = {
	.cong_avoid = (void *)fixed_cong_avoid,
	.ssthresh = (void *)fixed_ssthresh,
	.undo_cwnd = (void *)fixed_undo_cwnd,
	.name = "ublkctl_fixed_m",
};

char LICENSE[] SEC("license") = "GPL";
