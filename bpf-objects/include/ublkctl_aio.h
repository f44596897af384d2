/* SPDX-License-Identifier: MIT */
/*
 * What the bundled file-backed programs (loop, stripe) share: which bpf aio operation, with
 * which fallocate mode, serves a ublk request.
 */
#ifndef UBLKCTL_AIO_H
#define UBLKCTL_AIO_H

#include "ublk_bpf.h"

/* The bpf aio op for the request's ublk op (its fallocate mode in *op_flags), or -EOPNOTSUPP. */
static __always_inline int ublkctl_aio_op(const struct ublksrv_io_desc *iod, unsigned int *op_flags)
{
	*op_flags = 0;
	switch (ublksrv_get_op(iod)) {
	case UBLK_IO_OP_READ:
		return BPF_AIO_OP_FS_READ;
	case UBLK_IO_OP_WRITE:
		return BPF_AIO_OP_FS_WRITE;
	case UBLK_IO_OP_FLUSH:
		return BPF_AIO_OP_FS_FSYNC;
	case UBLK_IO_OP_DISCARD:
	case UBLK_IO_OP_WRITE_SAME:
		*op_flags = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		return BPF_AIO_OP_FS_FALLOCATE;
	case UBLK_IO_OP_WRITE_ZEROES:
		*op_flags = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		return BPF_AIO_OP_FS_FALLOCATE;
	default:
		return -EOPNOTSUPP;
	}
}

#endif
