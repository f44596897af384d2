/* SPDX-License-Identifier: MIT */
/* The selftests' umbrella header: the kfunc part beside it, and a debug trace switched by DEBUG. */
#ifndef KUBLK_BPF_H
#define KUBLK_BPF_H

#include "ublk_bpf_kfunc.h"

#ifdef DEBUG
#define BPF_DBG(...) bpf_printk(__VA_ARGS__)
#else
#define BPF_DBG(...)
#endif

#endif
