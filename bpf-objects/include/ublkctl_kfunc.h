/* SPDX-License-Identifier: MIT */
/*
 * ublkctl_kfunc.h - what the RFC's selftests keep in their ublk_bpf.h and ublk_bpf_kfunc.h:
 * the return encoding (ublk_bpf_return_val, UBLK_BPF_RET_*), the ublk and bpf aio kfunc
 * declarations, build_io_key() and BPF_DBG. Included by ublk_bpf.h only: a program that
 * brings the RFC's own headers never sees this one, so nothing is defined twice.
 */
#ifndef UBLKCTL_KFUNC_H
#define UBLKCTL_KFUNC_H

#include "ublk_vmlinux.h"
#include "ublk_bpf_helpers.h"

/* the op and flags of an I/O descriptor */
static __always_inline __u8 ublksrv_get_op(const struct ublksrv_io_desc *iod)
{
	return iod->op_flags & 0xff;
}

static __always_inline __u32 ublksrv_get_flags(const struct ublksrv_io_desc *iod)
{
	return iod->op_flags >> 8;
}

/* Return encoding: disposition in the top 4 bits of an unsigned long, bytes below. */
#ifndef BITS_PER_LONG
#define BITS_PER_LONG (sizeof(unsigned long) * 8)
#endif
#define UBLK_BPF_DISPOSITION_BITS (4)
#define UBLK_BPF_DISPOSITION_SHIFT (BITS_PER_LONG - UBLK_BPF_DISPOSITION_BITS)

static __always_inline ublk_bpf_return_t ublk_bpf_return_val(enum ublk_bpf_disposition rc,
							      unsigned int bytes)
{
	return (ublk_bpf_return_t)((unsigned long)rc << UBLK_BPF_DISPOSITION_SHIFT) | bytes;
}

#define UBLK_BPF_RET_QUEUED() ublk_bpf_return_val(UBLK_BPF_IO_QUEUED, 0)
#define UBLK_BPF_RET_REDIRECT() ublk_bpf_return_val(UBLK_BPF_IO_REDIRECT, 0)
#define UBLK_BPF_RET_CONTINUE(bytes) ublk_bpf_return_val(UBLK_BPF_IO_CONTINUE, (bytes))
#define UBLK_BPF_RET_DISPOSITION(ret) ((unsigned int)((ret) >> UBLK_BPF_DISPOSITION_SHIFT))
#define UBLK_BPF_RET_BYTES(ret) ((unsigned int)((ret) & ((1UL << UBLK_BPF_DISPOSITION_SHIFT) - 1)))

/* ------------------------------------------------------------------ */
/* kfuncs                                                             */
/* ------------------------------------------------------------------ */
extern const struct ublksrv_io_desc *ublk_bpf_get_iod(const struct ublk_bpf_io *io) __ksym;
extern void ublk_bpf_complete_io(const struct ublk_bpf_io *io, int res) __ksym;
extern int ublk_bpf_get_dev_id(const struct ublk_bpf_io *io) __ksym;
extern int ublk_bpf_get_queue_id(const struct ublk_bpf_io *io) __ksym;
extern int ublk_bpf_get_io_tag(const struct ublk_bpf_io *io) __ksym;
extern int ublk_bpf_attach_and_prep_aio(const struct ublk_bpf_io *_io, unsigned off,
					unsigned bytes, struct bpf_aio *aio) __ksym;
extern void ublk_bpf_dettach_and_complete_aio(struct bpf_aio *aio) __ksym;
extern struct ublk_bpf_io *ublk_bpf_acquire_io_from_aio(struct bpf_aio *aio) __ksym;
extern void ublk_bpf_release_io_from_aio(struct ublk_bpf_io *io) __ksym;
extern struct bpf_aio *bpf_aio_alloc(unsigned int op, enum bpf_aio_flag flags) __ksym;
extern struct bpf_aio *bpf_aio_alloc_sleepable(unsigned int op, enum bpf_aio_flag flags) __ksym;
extern void bpf_aio_release(struct bpf_aio *aio) __ksym;
extern int bpf_aio_submit(struct bpf_aio *aio, int fd, loff_t pos, unsigned bytes,
			  unsigned io_flags) __ksym;

/* (dev_id << 32) | (q_id << 16) | tag: a key naming one in-flight I/O */
static __always_inline unsigned long long build_io_key(const struct ublk_bpf_io *io)
{
	unsigned long long dev_id = (unsigned short)ublk_bpf_get_dev_id(io);
	unsigned long long q_id = (unsigned short)ublk_bpf_get_queue_id(io);
	unsigned long long tag = (unsigned int)ublk_bpf_get_io_tag(io);

	return (dev_id << 32) | (q_id << 16) | tag;
}

/* Debug trace, compiled in only with -DDEBUG. */
#ifdef DEBUG
#define BPF_DBG(...) bpf_printk(__VA_ARGS__)
#else
#define BPF_DBG(...) do { } while (0)
#endif


#endif /* UBLKCTL_KFUNC_H */
