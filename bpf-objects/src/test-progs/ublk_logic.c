// SPDX-License-Identifier: GPL-2.0
/*
 * The per-I/O logic of null.o's null_queue_io and stripe.o's stripe_queue_io,
 * written so the host kernel (which lacks the ublk-bpf RFC) can run it: the
 * kfuncs become reads and writes of a struct bench_io handed in as the packet
 * (XDP) or context (syscall); maps, atomics and arithmetic are as in the real
 * programs. The logic sits in static __noinline functions, so the XDP entry
 * (kernel, BPF_PROG_TEST_RUN with repeat) and the syscall entry (ublkctl's VM,
 * context = the struct) run the same instructions. For the VM-vs-JIT benchmark
 * (dev.ublkctl.bench.VmKernelBench); not shipped behaviour.
 */
#include "ublk_bpf.h"
#include "ublkctl_stats.h"
#include "ublkctl_stripe.h"

/* a request as the kfuncs would see it, plus what they would record */
struct bench_io {
	__u32 op_flags;       /* struct ublksrv_io_desc, 24 bytes */
	__u32 nr_sectors;
	__u64 start_sector;
	__u64 addr;
	__u32 dev_id;         /* ublk_bpf_get_dev_id */
	__u32 q_id;           /* ublk_bpf_get_queue_id */
	__u32 tag;            /* ublk_bpf_get_io_tag */
	__s32 res;            /* ublk_bpf_complete_io(io, res) */
	__u32 completions;
	__u32 aio_op;         /* the aio bpf_aio_alloc + attach_and_prep + submit would make */
	__u32 aio_flags;
	__s32 aio_fd;
	__u64 aio_pos;
	__u32 aio_bytes;
	__u32 aio_buf_off;
	__u64 ret;            /* what queue_io_cmd returned */
};

__u64 null_total_ios;

static __always_inline struct ublkctl_qstats *bench_qstats(const struct bench_io *io)
{
	__u32 q = io->q_id;

	return bpf_map_lookup_elem(&qstats, &q);
}

static __always_inline void bench_complete(struct bench_io *io, int res)
{
	io->res = res;
	io->completions++;
}

static __always_inline __u64 bench_key(const struct bench_io *io)
{
	return ((__u64)(__u16)io->dev_id << 32) | ((__u64)(__u16)io->q_id << 16) | io->tag;
}

/* null_queue_io: count, complete with the I/O's size, per-queue stats */
static __noinline __u64 null_logic(struct bench_io *io)
{
	struct ublkctl_qstats *st;
	int res = io->nr_sectors << 9;

	__sync_fetch_and_add(&null_total_ios, 1);
	st = bench_qstats(io);
	bench_complete(io, res);
	qstats_done(st, res, res);
	return UBLK_BPF_RET_QUEUED();
}

static __always_inline void stripe_put(struct bench_io *io, __u64 key, int err)
{
	int res;

	if (!stripe_rec_put(key, err, &res))
		return;
	res = stripe_result(io->op_flags & 0xff, res, io->nr_sectors);
	qstats_done(bench_qstats(io), res, io->nr_sectors << 9);
	bench_complete(io, res);
}

/* stripe_queue_io for a READ or WRITE piece: layout lookup, chunk arithmetic,
 * in-flight record, one aio "submitted" into io, CONTINUE | bytes */
static __noinline __u64 stripe_logic(struct bench_io *io, __u32 off)
{
	__u32 dev_id = io->dev_id;
	const struct stripe_config *cfg;
	struct stripe_piece piece;
	unsigned int total, bytes, idx;
	int res;
	__u64 key;
	__u8 op = io->op_flags & 0xff;

	cfg = bpf_map_lookup_elem(&stripe_cfg, &dev_id);
	if (!cfg || !stripe_config_ok(cfg)) {
		struct ublkctl_qstats *st = bench_qstats(io);

		QSTAT_ADD(st, redirected, 1);
		return UBLK_BPF_RET_REDIRECT();
	}
	if (op != UBLK_IO_OP_READ && op != UBLK_IO_OP_WRITE) {
		bench_complete(io, -EOPNOTSUPP);
		return UBLK_BPF_RET_QUEUED();
	}
	key = bench_key(io);
	total = io->nr_sectors << 9;
	if (off >= total) {
		bench_complete(io, -EINVAL);
		return UBLK_BPF_RET_QUEUED();
	}
	stripe_piece_at(cfg, (io->start_sector << 9) + off, total - off, &piece);
	bytes = piece.bytes;
	idx = piece.idx;

	res = off == 0 ? stripe_rec_start(key) : 0;
	if (!res)
		res = stripe_rec_get(key);
	if (res) {
		bench_complete(io, res);
		return UBLK_BPF_RET_QUEUED();
	}
	/* bpf_aio_alloc_sleepable + ublk_bpf_attach_and_prep_aio + bpf_aio_submit */
	if (off + bytes > total) {
		stripe_put(io, key, -EINVAL);
	} else {
		struct ublkctl_qstats *st = bench_qstats(io);

		io->aio_op = op == UBLK_IO_OP_READ ? BPF_AIO_OP_FS_READ : BPF_AIO_OP_FS_WRITE;
		io->aio_flags = 0;
		io->aio_buf_off = off;
		io->aio_bytes = bytes;
		/* clang drops the mask (idx < nr_files <= 4); the verifier wants to see it */
		asm volatile("" : "+r"(idx));
		io->aio_fd = cfg->fds[idx & (STRIPE_MAX_FILES - 1)];
		io->aio_pos = piece.file_off;
		QSTAT_ADD(st, aio_submitted, 1);
	}
	if (bytes < total) {
		struct ublkctl_qstats *st = bench_qstats(io);

		QSTAT_ADD(st, split, 1);
	}
	if (off + bytes == total)
		stripe_put(io, key, 0);
	return UBLK_BPF_RET_CONTINUE(bytes);
}

/* kernel entries: the packet is one struct bench_io */
SEC("xdp")
int xdp_null_logic(struct xdp_md *ctx)
{
	struct bench_io *io = (void *)(long)ctx->data;

	if ((void *)(io + 1) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	io->ret = null_logic(io);
	return XDP_PASS;
}

SEC("xdp")
int xdp_stripe_logic(struct xdp_md *ctx)
{
	struct bench_io *io = (void *)(long)ctx->data;

	if ((void *)(io + 1) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	io->ret = stripe_logic(io, 0);
	return XDP_PASS;
}

/* the cost of a test run with no work: the floor of the kernel figures */
SEC("xdp")
int xdp_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* VM entries: r1 = the struct, as a syscall program's context */
SEC("syscall")
int sys_null_logic(struct bench_io *io)
{
	io->ret = null_logic(io);
	return XDP_PASS;
}

SEC("syscall")
int sys_stripe_logic(struct bench_io *io)
{
	io->ret = stripe_logic(io, 0);
	return XDP_PASS;
}

SEC("syscall")
int sys_empty(void *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
