// SPDX-License-Identifier: GPL-2.0
/*
 * null target in BPF: three ublk_bpf_ops.
 *   id 0 null_ops          complete every I/O in BPF
 *   id 1 null_split_ops    split large I/Os with CONTINUE into pieces of
 *                          null_cfg.split_bytes (default 4 KiB), complete on the last piece
 *   id 2 null_redirect_ops send the I/Os picked by the null_cfg rule to the server;
 *                          if the server commits -EAGAIN after setting bounce[key] = 1,
 *                          the driver calls BPF again and BPF completes the I/O
 */
#include "ublk_bpf.h"
#include "ublkctl_stats.h"

struct null_config {
	__u32 split_bytes;     /* piece size for id 1, multiple of 512; 0 = default */
	__u32 redirect_ops;    /* id 2: bitmask of UBLK_IO_OP_* to redirect */
	__u32 redirect_modulo; /* id 2: also redirect tags with tag % modulo == 0; 0 = off */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct null_config);
} null_cfg SEC(".maps");

/* set by the server to 1 before it bounces an I/O back with -EAGAIN */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);   /* build_io_key() */
	__type(value, __u32);
} bounce SEC(".maps");

/* defaults the loader can show; kept in .rodata */
const volatile __u32 default_split_bytes = 4096;
/* total I/Os seen by any of the three ops, in .bss */
__u64 null_total_ios;
/* object format version, in .data */
__u32 null_version = 1;

static __always_inline int null_io_bytes(const struct ublk_bpf_io *io)
{
	const struct ublksrv_io_desc *iod = ublk_bpf_get_iod(io);

	if (!iod)
		return -EINVAL;
	return iod->nr_sectors << 9;
}

/* complete the whole I/O in BPF and count it */
static __always_inline ublk_bpf_return_t null_complete(const struct ublk_bpf_io *io, int res)
{
	struct ublkctl_qstats *st = qstats_of(io);

	ublk_bpf_complete_io(io, res);
	qstats_done(st, res, res);
	return UBLK_BPF_RET_QUEUED();
}

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(null_queue_io, struct ublk_bpf_io *io, unsigned int off)
{
	__sync_fetch_and_add(&null_total_ios, 1);
	return null_complete(io, null_io_bytes(io));
}

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(null_queue_io_split, struct ublk_bpf_io *io, unsigned int off)
{
	int total = null_io_bytes(io);
	__u32 zero = 0, piece = default_split_bytes;
	struct null_config *cfg = bpf_map_lookup_elem(&null_cfg, &zero);

	if (off == 0)
		__sync_fetch_and_add(&null_total_ios, 1);
	if (total < 0)
		return null_complete(io, total);
	if (cfg && cfg->split_bytes)
		piece = cfg->split_bytes;
	piece &= ~511U;
	if (!piece)
		piece = 512;
	if (off < (unsigned int)total && total - off > piece) {
		struct ublkctl_qstats *st = qstats_of(io);

		QSTAT_ADD(st, split, 1);
		return UBLK_BPF_RET_CONTINUE(piece);
	}
	/* last piece: everything before it is queued, complete the I/O */
	return null_complete(io, total);
}

static __always_inline bool null_should_redirect(const struct ublk_bpf_io *io,
						 const struct null_config *cfg)
{
	const struct ublksrv_io_desc *iod = io->iod;
	__u32 tag = ublk_bpf_get_io_tag(io);

	if (!cfg)
		return false;
	if (cfg->redirect_ops & (1U << (ublksrv_get_op(iod) & 31)))
		return true;
	return cfg->redirect_modulo && tag % cfg->redirect_modulo == 0;
}

SEC("struct_ops/ublk_bpf_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(null_queue_io_redirect, struct ublk_bpf_io *io, unsigned int off)
{
	__u32 zero = 0;
	struct null_config *cfg = bpf_map_lookup_elem(&null_cfg, &zero);
	__u64 key;
	__u32 *bounced;

	__sync_fetch_and_add(&null_total_ios, 1);
	if (!null_should_redirect(io, cfg))
		return null_complete(io, null_io_bytes(io));

	key = build_io_key(io);
	bounced = bpf_map_lookup_elem(&bounce, &key);
	if (bounced && *bounced) {
		/* second round after -EAGAIN from the server: finish here */
		bpf_map_delete_elem(&bounce, &key);
		return null_complete(io, null_io_bytes(io));
	}
	{
		struct ublkctl_qstats *st = qstats_of(io);

		QSTAT_ADD(st, redirected, 1);
	}
	return UBLK_BPF_RET_REDIRECT();
}

SEC("struct_ops/ublk_bpf_attach_dev")
int BPF_PROG(null_attach_dev, int dev_id)
{
	return 0;
}

SEC("struct_ops/ublk_bpf_detach_dev")
void BPF_PROG(null_detach_dev, int dev_id)
{
}

SEC(".struct_ops.link")
struct ublk_bpf_ops null_ops = {
	.id = 0,
	.queue_io_cmd = (void *)null_queue_io,
	.attach_dev = (void *)null_attach_dev,
	.detach_dev = (void *)null_detach_dev,
};

SEC(".struct_ops.link")
struct ublk_bpf_ops null_split_ops = {
	.id = 1,
	.queue_io_cmd = (void *)null_queue_io_split,
};

SEC(".struct_ops.link")
struct ublk_bpf_ops null_redirect_ops = {
	.id = 2,
	.queue_io_cmd = (void *)null_queue_io_redirect,
	.attach_dev = (void *)null_attach_dev,
};

char LICENSE[] SEC("license") = "GPL";
