/* SPDX-License-Identifier: MIT */
/*
 * ublk_bpf_helpers.h - the part of libbpf's bpf_helpers.h programs use: SEC, the map
 * definition macros, __ksym and friends, helper declarations by the kernel's helper ids,
 * bpf_printk (up to three arguments). Reached as compat/bpf/bpf_helpers.h.
 */
#ifndef UBLKCTL_BPF_HELPERS_H
#define UBLKCTL_BPF_HELPERS_H

#include "ublk_vmlinux.h"

/* ------------------------------------------------------------------ */
/* libbpf program-side macros (bpf_helpers.h equivalents)             */
/* ------------------------------------------------------------------ */
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]
#define __ulong(name, val) enum { ___bpf_concat(__unique_value, __COUNTER__) = val } name
#define ___bpf_concat(a, b) a##b

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif
#ifndef __weak
#define __weak __attribute__((weak))
#endif
#define __hidden __attribute__((visibility("hidden")))
/* kfuncs and kernel variables resolved by the loader through BTF */
#define __ksym __attribute__((section(".ksyms")))
#define __kptr __attribute__((btf_type_tag("kptr_untrusted")))
#define __kptr_ref __attribute__((btf_type_tag("kptr")))
#define __percpu_kptr __attribute__((btf_type_tag("percpu_kptr")))
#define __arg_ctx __attribute__((btf_decl_tag("arg:ctx")))
#define __arg_nonnull __attribute__((btf_decl_tag("arg:nonnull")))

#ifndef offsetof
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif
#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((void *)(ptr) - offsetof(type, member)))
#endif
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define barrier() asm volatile("" ::: "memory")
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))
#ifndef min
#define min(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef max
#define max(a, b) ((a) > (b) ? (a) : (b))
#endif


/*
 * Helper functions: the kernel's stable helper ids (enum bpf_func_id).
 * A call through these pointers compiles to "call <id>".
 */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static long (*bpf_map_delete_elem)(void *map, const void *key) = (void *)3;
static long (*bpf_probe_read)(void *dst, __u32 size, const void *unsafe_ptr) = (void *)4;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static long (*bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)6;
static __u32 (*bpf_get_prandom_u32)(void) = (void *)7;
static __u32 (*bpf_get_smp_processor_id)(void) = (void *)8;
static long (*bpf_skb_load_bytes)(const void *skb, __u32 offset, void *to, __u32 len) = (void *)26;
static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)14;
static long (*bpf_xdp_adjust_head)(struct xdp_md *xdp_md, int delta) = (void *)44;
static long (*bpf_probe_read_kernel)(void *dst, __u32 size, const void *unsafe_ptr) = (void *)113;
static __u64 (*bpf_ktime_get_boot_ns)(void) = (void *)125;
static long (*bpf_trace_vprintk)(const char *fmt, __u32 fmt_size, const void *data, __u32 data_len) = (void *)177;

/* bpf_printk with up to three arguments, through bpf_trace_printk (helper 6) */
#define bpf_printk(fmt, args...)                                      \
	({                                                            \
		static const char ____fmt[] = fmt;                    \
		bpf_trace_printk(____fmt, sizeof(____fmt), ##args);   \
	})


#endif /* UBLKCTL_BPF_HELPERS_H */
