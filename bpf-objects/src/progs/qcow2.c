// SPDX-License-Identifier: GPL-2.0
/*
 * qcow2 fast path in BPF: the RFC's "typical example". The server (ublkctl's Java qcow2
 * target) owns all metadata; this program only looks up guest cluster -> host offset in
 * qcow2_map, which the server fills after it resolves a cluster and empties before it changes
 * one. queue_io_cmd_daemon handles one piece per call, from `off` to the next cluster boundary:
 *   mapped    -> one bpf aio at host offset + offset in cluster, CONTINUE | piece bytes
 *   not found -> REDIRECT: the server serves the rest of the I/O and maps what it touched
 * Only READ and WRITE are served here; FLUSH, DISCARD and WRITE_ZEROES change or sync
 * metadata and always go to the server. A cluster is mapped only while it is plain data the
 * image owns alone (refcount 1), so a write hit never needs copy-on-write or allocation.
 *   id 48 qcow2_ops      queue_io_cmd_daemon (sleepable: the image fd is valid in the server task)
 *   id 48 qcow2_aio_ops  bpf_aio_complete_ops
 */
#include "ublk_bpf.h"
#include "ublkctl_stats.h"

struct qcow2_dev {
	int fd;              /* the image file, valid in the server task */
	__u32 cluster_bits;  /* 9..21 */
};

/* dev_id -> image, written by the server before START_DEV */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, struct qcow2_dev);
} qcow2_cfg SEC(".maps");

struct qcow2_key {
	__u32 dev_id;
	__u32 pad;
	__u64 cluster;       /* guest offset >> cluster_bits */
};

struct qcow2_extent {
	__u64 host_off;      /* where the cluster's data starts in the image file */
};

/* the mapping cache: LRU, so a working set larger than the map only costs misses */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct qcow2_key);
	__type(value, struct qcow2_extent);
} qcow2_map SEC(".maps");

struct qcow2_counters {
	__u64 hits;          /* pieces served from the map */
	__u64 misses;        /* lookups that found nothing (the I/O's rest was redirected) */
	__u64 passed;        /* I/Os whose op always goes to the server (flush, discard, zeroes) */
};

/* per queue, like qstats */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, UBLKCTL_MAX_QUEUES);
	__type(key, __u32);
	__type(value, struct qcow2_counters);
} qcow2_stats SEC(".maps");

static __always_inline struct qcow2_counters *counters_of(const struct ublk_bpf_io *io)
{
	__u32 q = (__u32)ublk_bpf_get_queue_id(io);

	return bpf_map_lookup_elem(&qcow2_stats, &q);
}

#define COUNT(c, field)                                                \
	do {                                                           \
		if (c)                                                 \
			__sync_fetch_and_add(&(c)->field, 1);          \
	} while (0)

/* end of one piece's aio: success completes with the whole I/O's bytes (the driver waits for every piece) */
static __always_inline void qcow2_finish_aio(struct bpf_aio *aio, long ret)
{
	struct ublk_bpf_io *io = ublk_bpf_acquire_io_from_aio(aio);

	if (io) {
		struct ublkctl_qstats *st = qstats_of(io);
		__u64 bytes = io->iod->nr_sectors << 9;

		QSTAT_ADD(st, aio_completed, 1);
		if (ret < 0) {
			QSTAT_ADD(st, errors, 1);
			ublk_bpf_complete_io(io, (int)ret);
		} else {
			ublk_bpf_complete_io(io, (int)bytes);
		}
		ublk_bpf_release_io_from_aio(io);
	}
	ublk_bpf_dettach_and_complete_aio(aio);
	bpf_aio_release(aio);
}

SEC("struct_ops/bpf_aio_complete_cb")
void BPF_PROG(qcow2_aio_done, struct bpf_aio *aio, long ret)
{
	qcow2_finish_aio(aio, ret);
}

SEC(".struct_ops.link")
struct bpf_aio_complete_ops qcow2_aio_ops = {
	.id = 48,
	.bpf_aio_complete_cb = (void *)qcow2_aio_done,
};

static __always_inline ublk_bpf_return_t qcow2_redirect(const struct ublk_bpf_io *io)
{
	struct ublkctl_qstats *st = qstats_of(io);

	QSTAT_ADD(st, redirected, 1);
	return UBLK_BPF_RET_REDIRECT();
}

SEC("struct_ops.s/ublk_bpf_queue_io_cmd_daemon")
ublk_bpf_return_t BPF_PROG(qcow2_queue_io, struct ublk_bpf_io *io, unsigned int off)
{
	const struct ublksrv_io_desc *iod = ublk_bpf_get_iod(io);
	struct qcow2_counters *c = counters_of(io);
	const struct qcow2_extent *ext;
	const struct qcow2_dev *dev;
	struct qcow2_key key = {};
	unsigned int total, bytes, within, cs;
	struct bpf_aio *aio;
	__u64 pos;
	__u8 op;
	int res;

	if (!iod) {
		ublk_bpf_complete_io(io, -EINVAL);
		return UBLK_BPF_RET_QUEUED();
	}
	key.dev_id = ublk_bpf_get_dev_id(io);
	dev = bpf_map_lookup_elem(&qcow2_cfg, &key.dev_id);
	op = ublksrv_get_op(iod);
	if (op != UBLK_IO_OP_READ && op != UBLK_IO_OP_WRITE) {
		COUNT(c, passed);
		return qcow2_redirect(io);
	}
	if (!dev || dev->cluster_bits < 9 || dev->cluster_bits > 21)
		return qcow2_redirect(io);
	total = iod->nr_sectors << 9;
	if (off >= total) {
		ublk_bpf_complete_io(io, -EINVAL);
		return UBLK_BPF_RET_QUEUED();
	}
	cs = 1U << dev->cluster_bits;
	pos = (iod->start_sector << 9) + off;
	key.cluster = pos >> dev->cluster_bits;
	within = pos & (cs - 1);
	bytes = cs - within;
	if (bytes > total - off)
		bytes = total - off;

	ext = bpf_map_lookup_elem(&qcow2_map, &key);
	if (!ext) {
		/* the server resolves this cluster (and the rest of the I/O) and maps it */
		COUNT(c, misses);
		return qcow2_redirect(io);
	}
	COUNT(c, hits);
	aio = bpf_aio_alloc_sleepable(op == UBLK_IO_OP_READ ? BPF_AIO_OP_FS_READ : BPF_AIO_OP_FS_WRITE, 0);
	if (!aio) {
		ublk_bpf_complete_io(io, -ENOMEM);
		return UBLK_BPF_RET_CONTINUE(bytes);
	}
	res = ublk_bpf_attach_and_prep_aio(io, off, bytes, aio);
	if (res < 0) {
		bpf_aio_release(aio);
		ublk_bpf_complete_io(io, res);
		return UBLK_BPF_RET_CONTINUE(bytes);
	}
	{
		struct ublkctl_qstats *st = qstats_of(io);

		QSTAT_ADD(st, aio_submitted, 1);
		if (bytes < total)
			QSTAT_ADD(st, split, 1);
		if (off + bytes == total) {
			QSTAT_ADD(st, queued, 1);
			QSTAT_ADD(st, bytes, total);
		}
	}
	res = bpf_aio_submit(aio, dev->fd, ext->host_off + within, bytes, 0);
	if (res < 0)
		/* attached: finishing it completes the I/O with the error */
		qcow2_finish_aio(aio, res);
	/* an I/O inside one cluster is done here; otherwise the driver calls again at off + bytes */
	if (off == 0 && bytes == total)
		return UBLK_BPF_RET_QUEUED();
	return UBLK_BPF_RET_CONTINUE(bytes);
}

SEC("struct_ops/ublk_bpf_release_io_cmd")
void BPF_PROG(qcow2_release_io, struct ublk_bpf_io *io)
{
}

SEC("struct_ops/ublk_bpf_attach_dev")
int BPF_PROG(qcow2_attach_dev, int dev_id)
{
	__u32 key = dev_id;
	const struct qcow2_dev *dev = bpf_map_lookup_elem(&qcow2_cfg, &key);

	if (!dev || dev->fd < 0)
		return -EINVAL;
	return 0;
}

SEC(".struct_ops.link")
struct ublk_bpf_ops qcow2_ops = {
	.id = 48,
	.queue_io_cmd_daemon = (void *)qcow2_queue_io,
	.release_io_cmd = (void *)qcow2_release_io,
	.attach_dev = (void *)qcow2_attach_dev,
};

char LICENSE[] SEC("license") = "GPL";
