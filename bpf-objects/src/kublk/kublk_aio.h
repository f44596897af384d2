/* SPDX-License-Identifier: MIT */
/* Which bpf aio operation (and fallocate mode) serves a ublk request; -EINVAL for others. */
#ifndef KUBLK_AIO_H
#define KUBLK_AIO_H

static inline int kublk_aio_op(const struct ublksrv_io_desc *iod, unsigned int *mode)
{
	*mode = 0;
	switch (iod->op_flags & 0xff) {
	case 0: /* READ */
		return BPF_AIO_OP_FS_READ;
	case 1: /* WRITE */
		return BPF_AIO_OP_FS_WRITE;
	case 2: /* FLUSH */
		return BPF_AIO_OP_FS_FSYNC;
	case 3: /* DISCARD */
	case 4: /* WRITE_SAME */
		*mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		return BPF_AIO_OP_FS_FALLOCATE;
	case 5: /* WRITE_ZEROES */
		*mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		return BPF_AIO_OP_FS_FALLOCATE;
	}
	return -EINVAL;
}

#endif
