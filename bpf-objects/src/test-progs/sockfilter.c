// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel-loadable socket filter for the loader and VM tests: counts packets
 * and bytes per "class" (first byte of the packet modulo 4) in an array map,
 * keeps a total in .bss, truncates to a length from .rodata, and calls a
 * bpf-to-bpf subprogram (a .text function).
 */
#include "ublk_bpf.h"

struct pkt_count {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct pkt_count);
} counts SEC(".maps");

const volatile __u32 snap_len = 96;
__u64 total_packets;

static __noinline __u32 classify(struct __sk_buff *skb)
{
	__u8 first = 0;

	if (bpf_skb_load_bytes(skb, 0, &first, 1) < 0)
		return 3;
	return first & 3;
}

SEC("socket")
int count_and_trim(struct __sk_buff *skb)
{
	__u32 key = classify(skb);
	struct pkt_count *c = bpf_map_lookup_elem(&counts, &key);

	if (c) {
		__sync_fetch_and_add(&c->packets, 1);
		__sync_fetch_and_add(&c->bytes, skb->len);
	}
	__sync_fetch_and_add(&total_packets, 1);
	return skb->len < snap_len ? skb->len : snap_len;
}

char LICENSE[] SEC("license") = "GPL";
