/* SPDX-License-Identifier: MIT */
/*
 * ublk_consts.h - errno values and fallocate modes (linux/errno.h, linux/falloc.h).
 * Each group is guarded by its first name, so a program that defines them itself keeps its own.
 */
#ifndef UBLKCTL_CONSTS_H
#define UBLKCTL_CONSTS_H

/* ------------------------------------------------------------------ */
/* errno / fallocate constants (linux/errno.h, linux/falloc.h)        */
/* ------------------------------------------------------------------ */
#ifndef EPERM
#define EPERM 1
#define ENOENT 2
#define EINTR 4
#define EIO 5
#define E2BIG 7
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define ENOTSUPP 524
#define EOPNOTSUPP 95
#define EREMOTEIO 121
#endif
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#define FALLOC_FL_PUNCH_HOLE 0x02
#define FALLOC_FL_ZERO_RANGE 0x10
#endif


#endif /* UBLKCTL_CONSTS_H */
