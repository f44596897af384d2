// SPDX-License-Identifier: MIT
/*
 * kublk's loop program (struct_ops id 16, bpf aio ops id 16), written for ublkctl after the
 * RFC selftests' conventions: the backing file's descriptor comes from fd_map (dev_id -> fd),
 * which the server fills before the device starts; each I/O is one bpf aio on that file.
 */
#include "vmlinux.h"
#include <linux/const.h>
#include <linux/errno.h>
#include <linux/falloc.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ublk_bpf.h"
#include "kublk_aio.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, unsigned int);	/* device id */
	__type(value, int);		/* backing file descriptor */
} fd_map SEC(".maps");

/* the aio is done: its result completes the I/O, then both are let go */
static inline void kublk_loop_finish(struct bpf_aio *aio, int res)
{
	struct ublk_bpf_io *io = ublk_bpf_acquire_io_from_aio(aio);

	if (io) {
		ublk_bpf_complete_io(io, res);
		ublk_bpf_release_io_from_aio(io);
	}
	ublk_bpf_dettach_and_complete_aio(aio);
	bpf_aio_release(aio);
}

SEC("struct_ops/bpf_aio_complete_cb")
void BPF_PROG(kublk_loop_aio_done, struct bpf_aio *aio, long ret)
{
	kublk_loop_finish(aio, ret);
}

SEC(".struct_ops.link")
struct bpf_aio_complete_ops kublk_loop_aio_ops = {
	.id = 16,
	.bpf_aio_complete_cb = (void *)kublk_loop_aio_done,
};

SEC("struct_ops.s/ublk_bpf_queue_io_cmd_daemon")
ublk_bpf_return_t BPF_PROG(kublk_loop_queue, struct ublk_bpf_io *io, unsigned int off)
{
	const struct ublksrv_io_desc *iod = ublk_bpf_get_iod(io);
	unsigned int dev = ublk_bpf_get_dev_id(io), mode, bytes;
	struct bpf_aio *aio;
	int op, res, *fd;

	if (!iod) {
		ublk_bpf_complete_io(io, -EINVAL);
		return ublk_bpf_return_val(UBLK_BPF_IO_QUEUED, 0);
	}
	fd = bpf_map_lookup_elem(&fd_map, &dev);
	if (!fd) {
		/* no backing file told: fail the I/O now rather than hold it */
		bpf_printk("loop: no fd for device %d in fd_map", dev);
		ublk_bpf_complete_io(io, -EBADF);
		return ublk_bpf_return_val(UBLK_BPF_IO_QUEUED, 0);
	}
	op = kublk_aio_op(iod, &mode);
	if (op < 0) {
		ublk_bpf_complete_io(io, op);
		return ublk_bpf_return_val(UBLK_BPF_IO_QUEUED, 0);
	}
	bytes = iod->nr_sectors << 9;
	aio = bpf_aio_alloc(op, 0);
	if (!aio) {
		ublk_bpf_complete_io(io, -ENOMEM);
		return ublk_bpf_return_val(UBLK_BPF_IO_QUEUED, 0);
	}
	res = ublk_bpf_attach_and_prep_aio(io, 0, bytes, aio);
	if (res < 0) {
		bpf_printk("loop: attaching the aio failed %d", res);
		bpf_aio_release(aio);
		ublk_bpf_complete_io(io, res);
		return ublk_bpf_return_val(UBLK_BPF_IO_QUEUED, 0);
	}
	res = bpf_aio_submit(aio, *fd, iod->start_sector << 9, bytes, mode);
	if (res < 0) {
		bpf_printk("loop: aio submit on fd %d failed %d", *fd, res);
		kublk_loop_finish(aio, res);
	}
	return ublk_bpf_return_val(UBLK_BPF_IO_QUEUED, 0);
}

SEC("struct_ops/ublk_bpf_release_io_cmd")
void BPF_PROG(kublk_loop_release, struct ublk_bpf_io *io)
{
	BPF_DBG("loop: released, result %d", io->res);
}

SEC(".struct_ops.link")
struct ublk_bpf_ops kublk_loop_ops = {
	.id = 16,
	.queue_io_cmd_daemon = (void *)kublk_loop_queue,
	.release_io_cmd = (void *)kublk_loop_release,
};

char LICENSE[] SEC("license") = "GPL";
