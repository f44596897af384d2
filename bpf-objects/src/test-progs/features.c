// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel-loadable XDP programs for the VM's tests of tail calls, the ring
 * buffer, bpf_for_each_map_elem and bpf_spin_lock: each runs in the kernel
 * (BPF_PROG_TEST_RUN) and in the VM on the same packets, and the results,
 * maps and ring buffer bytes must agree.
 */
#include "ublk_bpf.h"

/* the helpers used here, with the kernel's ids (include/uapi/linux/bpf.h) */
struct bpf_spin_lock {
	__u32 val;
};
static long (*bpf_tail_call)(void *ctx, void *prog_array, __u32 index) = (void *)12;
static long (*bpf_spin_lock)(struct bpf_spin_lock *lock) = (void *)93;
static long (*bpf_spin_unlock)(struct bpf_spin_lock *lock) = (void *)94;
static long (*bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size, __u64 flags) = (void *)130;
static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;
static void (*bpf_ringbuf_discard)(void *data, __u64 flags) = (void *)133;
static __u64 (*bpf_ringbuf_query)(void *ringbuf, __u64 flags) = (void *)134;
static long (*bpf_for_each_map_elem)(void *map, void *callback_fn, void *callback_ctx, __u64 flags) = (void *)164;

/* ---------------------------------------------------------------- tail calls */

int tc_mark(struct xdp_md *ctx);
int tc_loop(struct xdp_md *ctx);
int tc_chain(struct xdp_md *ctx);

/* slot 3 stays empty; the loader fills 0-2 from .values, as libbpf does */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__array(values, int (struct xdp_md *));
} jmp_table SEC(".maps") = {
	.values = {
		[0] = (void *)&tc_mark,
		[1] = (void *)&tc_chain,
		[2] = (void *)&tc_loop,
	},
};

/* entries of each program: [0] tc_entry, [1] tc_mark, [2] tc_loop, [3] tc_chain */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} tc_hits SEC(".maps");

static __always_inline void hit(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&tc_hits, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* jumps to slot data[0] & 7: slots 0-2 hold programs, 3 is empty, 4-7 are past the end */
SEC("xdp")
int tc_entry(struct xdp_md *ctx)
{
	__u8 *p = (void *)(long)ctx->data;

	if ((void *)(p + 2) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	hit(0);
	bpf_tail_call(ctx, &jmp_table, p[0] & 7);
	return 100 + (p[0] & 7);	/* fell through */
}

/* slot 0: marks the packet */
SEC("xdp")
int tc_mark(struct xdp_md *ctx)
{
	__u8 *p = (void *)(long)ctx->data;

	if ((void *)(p + 2) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	hit(1);
	p[1] = 0xaa;
	return XDP_PASS;
}

/* slot 2: calls itself until the kernel's limit of 33 tail calls stops it */
SEC("xdp")
int tc_loop(struct xdp_md *ctx)
{
	hit(2);
	bpf_tail_call(ctx, &jmp_table, 2);
	return XDP_DROP;
}

/* slot 1: one more hop, into the loop */
SEC("xdp")
int tc_chain(struct xdp_md *ctx)
{
	hit(3);
	bpf_tail_call(ctx, &jmp_table, 2);
	return XDP_TX;
}

/* ---------------------------------------------------------------- ring buffer */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct event {
	__u32 seq;
	__u32 len;
	__u8 head[16];
};

/*
 * data[0] & 3: 0 output of 1-16 bytes, 1 reserve + discard, 2 reserve + submit,
 * 3 a 1000-byte record (wraps around the 4 KiB area now and then)
 */
SEC("xdp")
int rb_prog(struct xdp_md *ctx)
{
	__u8 *p = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct event *e;
	__u8 buf[16];

	if ((void *)(p + 16) > end)
		return XDP_ABORTED;
	__builtin_memcpy(buf, p, 16);
	switch (p[0] & 3) {
	case 0:
		if (bpf_ringbuf_output(&events, buf, (p[1] & 15) + 1, 0))
			return 1000;
		break;
	case 3: {
		__u8 *big = bpf_ringbuf_reserve(&events, 1000, 0);

		if (!big)
			return 1001;
		big[0] = p[2];
		big[999] = p[3];
		bpf_ringbuf_submit(big, 0);
		break;
	}
	default:
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e)
			return 1002;
		e->seq = p[2];
		e->len = end - (void *)p;
		__builtin_memcpy(e->head, buf, 16);
		if ((p[0] & 3) == 1)
			bpf_ringbuf_discard(e, 0);
		else
			bpf_ringbuf_submit(e, 0);
	}
	return bpf_ringbuf_query(&events, 0 /* BPF_RB_AVAIL_DATA */) + 16 * bpf_ringbuf_query(&events, 3 /* PROD_POS */);
}

/* ---------------------------------------------------------------- for_each_map_elem */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} fe_arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} fe_hash SEC(".maps");

struct fe_ctx {
	__u64 sum;
	__u64 limit;
	__u64 seen;
};

/* sums values (and bumps each one) until the sum passes the limit */
static long arr_cb(void *map, __u32 *key, __u64 *val, struct fe_ctx *c)
{
	c->seen += *key + 1;
	c->sum += *val;
	*val += 1;
	return c->sum > c->limit ? 1 : 0;
}

/* sums every value and deletes the odd ones: the same set remains in any order */
static long hash_cb(void *map, __u32 *key, __u64 *val, struct fe_ctx *c)
{
	c->seen++;
	c->sum += *val;
	if (*val & 1)
		bpf_map_delete_elem(map, key);
	return 0;
}

SEC("xdp")
int fe_prog(struct xdp_md *ctx)
{
	__u8 *p = (void *)(long)ctx->data;
	struct fe_ctx a = {}, h = {};
	__u32 k, hk;
	__u64 *v, hv;
	long n, m;

	if ((void *)(p + 4) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	k = p[0] & 7;
	v = bpf_map_lookup_elem(&fe_arr, &k);
	if (v)
		*v += p[1];
	hk = p[2] & 31;
	hv = p[3];
	bpf_map_update_elem(&fe_hash, &hk, &hv, BPF_ANY);
	a.limit = (__u64)p[1] * 8;
	n = bpf_for_each_map_elem(&fe_arr, arr_cb, &a, 0);
	m = bpf_for_each_map_elem(&fe_hash, hash_cb, &h, 0);
	return (n << 28) | (m << 22) | ((a.seen & 0x3f) << 16) | ((a.sum + h.sum) & 0xffff);
}

/* ---------------------------------------------------------------- spin lock */

struct locked {
	struct bpf_spin_lock lock;
	__u32 n;
	__u64 sum;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct locked);
} sl_map SEC(".maps");

/* two fields that must move together: without the lock, concurrent runs would lose updates */
SEC("xdp")
int sl_prog(struct xdp_md *ctx)
{
	__u8 *p = (void *)(long)ctx->data;
	struct locked *v;
	__u32 k, n;

	if ((void *)(p + 2) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	k = p[0] & 1;
	v = bpf_map_lookup_elem(&sl_map, &k);
	if (!v)
		return XDP_ABORTED;
	bpf_spin_lock(&v->lock);
	v->n++;
	v->sum += p[1];
	n = v->n;
	bpf_spin_unlock(&v->lock);
	return n;
}

char LICENSE[] SEC("license") = "GPL";
