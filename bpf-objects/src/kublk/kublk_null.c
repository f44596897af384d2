// SPDX-License-Identifier: MIT
/*
 * kublk's null programs (struct_ops ids 0, 1, 2), written for ublkctl after the conventions of
 * the RFC's selftests: vmlinux.h + libbpf headers + this directory's ublk_bpf.h, and kublk's
 * io_map, which its null server writes before it answers -EAGAIN.
 *   id 0: every I/O completes in BPF.
 *   id 1: an I/O longer than 512 bytes is split: 512 bytes, then the rest (CONTINUE).
 *   id 2: odd tags complete in BPF; even tags go to the server (REDIRECT) unless io_map says
 *         the server sent them back, in which case BPF completes them and clears the mark (the
 *         RFC's ublk_null.c keeps it, so a tag bounced once completes in BPF from then on).
 */
#include "vmlinux.h"
#include <linux/const.h>
#include <linux/errno.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ublk_bpf.h"

/* io key -> non-zero once the server has bounced this I/O back */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, unsigned long long);
	__type(value, int);
} io_map SEC(".maps");

/* bytes of the whole I/O, or -EINVAL without a descriptor */
static inline int io_bytes(const struct ublk_bpf_io *io)
{
	const struct ublksrv_io_desc *iod = ublk_bpf_get_iod(io);

	return iod ? (int)(iod->nr_sectors << 9) : -EINVAL;
}

static inline ublk_bpf_return_t done(const struct ublk_bpf_io *io, int res)
{
	ublk_bpf_complete_io(io, res);
	return ublk_bpf_return_val(UBLK_BPF_IO_QUEUED, 0);
}

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(kublk_null_queue, struct ublk_bpf_io *io, unsigned int off)
{
	BPF_DBG("null: dev %d q %d tag %d", ublk_bpf_get_dev_id(io), ublk_bpf_get_queue_id(io),
		ublk_bpf_get_io_tag(io));
	return done(io, io_bytes(io));
}

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(kublk_null_queue_split, struct ublk_bpf_io *io, unsigned int off)
{
	int bytes = io_bytes(io);

	if (bytes > 512 && off < 512)
		return ublk_bpf_return_val(UBLK_BPF_IO_CONTINUE, 512);
	return done(io, bytes);
}

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(kublk_null_queue_redirect, struct ublk_bpf_io *io, unsigned int off)
{
	unsigned long long key;
	int bytes = io_bytes(io);
	int zero = 0;
	int *bounced;

	if (bytes < 0 || (ublk_bpf_get_io_tag(io) & 1))
		return done(io, bytes);
	key = build_io_key(io);
	bounced = bpf_map_lookup_elem(&io_map, &key);
	if (bounced && *bounced) {
		/* forget it, so the next I/O on this tag goes to the server again */
		bpf_map_delete_elem(&io_map, &key);
		return done(io, bytes);
	}
	/* mark it seen; the server sets it to 1 when it sends the I/O back */
	if (bpf_map_update_elem(&io_map, &key, &zero, BPF_ANY))
		bpf_printk("null: io_map full, key %llx", key);
	return ublk_bpf_return_val(UBLK_BPF_IO_REDIRECT, 0);
}

SEC("struct_ops/ublk_bpf_attach_dev")
int BPF_PROG(kublk_null_attach, int dev_id)
{
	return 0;
}

SEC("struct_ops/ublk_bpf_detach_dev")
void BPF_PROG(kublk_null_detach, int dev_id)
{
}

SEC(".struct_ops.link")
struct ublk_bpf_ops kublk_null_ops = {
	.id = 0,
	.queue_io_cmd = (void *)kublk_null_queue,
	.attach_dev = (void *)kublk_null_attach,
	.detach_dev = (void *)kublk_null_detach,
};

SEC(".struct_ops.link")
struct ublk_bpf_ops kublk_null_split_ops = {
	.id = 1,
	.queue_io_cmd = (void *)kublk_null_queue_split,
};

SEC(".struct_ops.link")
struct ublk_bpf_ops kublk_null_redirect_ops = {
	.id = 2,
	.queue_io_cmd = (void *)kublk_null_queue_redirect,
};

char LICENSE[] SEC("license") = "GPL";
