/* SPDX-License-Identifier: MIT */
/*
 * ublk_bpf.h - everything a ublk-bpf program needs, in one include.
 *
 * This stands for vmlinux.h, libbpf's bpf_helpers.h / bpf_tracing.h, linux/errno.h,
 * linux/falloc.h and the RFC's ublk_bpf_kfunc.h at once: the types of the "ublk: support
 * bpf" RFC (struct ublk_bpf_io, struct ublk_bpf_ops, struct bpf_aio, ...) as programs see
 * them, the kfunc declarations, and the small part of libbpf's program-side macros that
 * programs use (SEC, map definition macros, BPF_PROG, helper declarations, bpf_printk).
 * Build with: clang -target bpf -mcpu=v3 -O2 -g -I<this dir> -c prog.c -o prog.o
 *
 * The pieces are separate headers so that compat/ can offer each under the name a program
 * written for the RFC's selftests includes (vmlinux.h, bpf/bpf_helpers.h, ...) without
 * pulling in the kfunc part, which such a program brings itself (README.md, "Headers").
 */
#ifndef UBLKCTL_UBLK_BPF_H
#define UBLKCTL_UBLK_BPF_H

#include "ublk_vmlinux.h"
#include "ublk_bpf_helpers.h"
#include "ublk_bpf_tracing.h"
#include "ublk_consts.h"
#include "ublkctl_kfunc.h"

#endif /* UBLKCTL_UBLK_BPF_H */
