// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel-loadable XDP program for the loader and VM tests: parses the Ethernet
 * header with direct packet access, counts frames per EtherType in a hash map,
 * drops the EtherTypes listed in .data and passes the rest.
 */
#include "ublk_bpf.h"

struct ethhdr {
	__u8 h_dest[6];
	__u8 h_source[6];
	__be16 h_proto;
} __attribute__((packed));

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, __u64);
} proto_count SEC(".maps");

/* EtherTypes (network order) to drop; 0 = unused slot */
__be16 drop_protos[4] = { 0xdd86 /* IPv6 */, 0, 0, 0 };
__u64 short_frames;

SEC("xdp")
int xdp_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u64 one = 1, *cnt;
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > data_end) {
		__sync_fetch_and_add(&short_frames, 1);
		return XDP_DROP;
	}
	proto = eth->h_proto;
	cnt = bpf_map_lookup_elem(&proto_count, &proto);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	else
		bpf_map_update_elem(&proto_count, &proto, &one, BPF_NOEXIST);
	for (i = 0; i < 4; i++)
		if (drop_protos[i] && drop_protos[i] == proto)
			return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
