/* SPDX-License-Identifier: MIT */
/*
 * ublk_bpf.h - everything a ublk-bpf program needs, in one header.
 *
 * This replaces vmlinux.h, libbpf's bpf_helpers.h / bpf_tracing.h and the RFC's
 * ublk_bpf_kfunc.h: the types of the "ublk: support bpf" RFC (struct ublk_bpf_io,
 * struct ublk_bpf_ops, struct bpf_aio, ...) as programs see them, the kfunc
 * declarations, and the small part of libbpf's program-side macros that programs
 * use (SEC, map definition macros, BPF_PROG, helper declarations, bpf_printk).
 * Build with: clang -target bpf -O2 -g -I<this dir> -c prog.c -o prog.o
 *
 * Kernel structs are marked preserve_access_index (as vmlinux.h does) so that a
 * loader targeting a real kernel can relocate field offsets with CO-RE; ublkctl's
 * VM uses the layouts below as they are.
 */
#ifndef UBLKCTL_UBLK_BPF_H
#define UBLKCTL_UBLK_BPF_H

#if !defined(__bpf__) && !defined(__BPF__)
#error "ublk_bpf.h is for BPF programs: compile with clang -target bpf"
#endif

/* ------------------------------------------------------------------ */
/* Basic types (vmlinux.h / linux/types.h equivalents)                */
/* ------------------------------------------------------------------ */
typedef signed char s8;
typedef unsigned char u8;
typedef signed short s16;
typedef unsigned short u16;
typedef signed int s32;
typedef unsigned int u32;
typedef signed long long s64;
typedef unsigned long long u64;
typedef s8 __s8;
typedef u8 __u8;
typedef s16 __s16;
typedef u16 __u16;
typedef s32 __s32;
typedef u32 __u32;
typedef s64 __s64;
typedef u64 __u64;
typedef u16 __le16;
typedef u16 __be16;
typedef u32 __le32;
typedef u32 __be32;
typedef u64 __le64;
typedef u64 __be64;
typedef u32 __wsum;
typedef long long loff_t;
typedef unsigned long size_t;
typedef long ssize_t;
typedef _Bool bool;
#define true 1
#define false 0
#ifndef NULL
#define NULL ((void *)0)
#endif

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

/* enum bpf_map_type (subset) */
enum bpf_map_type {
	BPF_MAP_TYPE_UNSPEC = 0,
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PROG_ARRAY = 3,
	BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4,
	BPF_MAP_TYPE_PERCPU_HASH = 5,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_LRU_PERCPU_HASH = 10,
	BPF_MAP_TYPE_RINGBUF = 27,
};

/* map update flags */
enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
	BPF_F_LOCK = 4,
};

/* map creation flags (subset) */
enum {
	BPF_F_NO_PREALLOC = (1U << 0),
	BPF_F_RDONLY_PROG = (1U << 7),
	BPF_F_WRONLY_PROG = (1U << 8),
	BPF_F_MMAPABLE = (1U << 10),
};

/* XDP verdicts and the program contexts of the kernel-testable program types */
enum xdp_action {
	XDP_ABORTED = 0,
	XDP_DROP,
	XDP_PASS,
	XDP_TX,
	XDP_REDIRECT,
};

struct xdp_md {
	__u32 data;
	__u32 data_end;
	__u32 data_meta;
	__u32 ingress_ifindex;
	__u32 rx_queue_index;
	__u32 egress_ifindex;
};

struct __sk_buff {
	__u32 len;
	__u32 pkt_type;
	__u32 mark;
	__u32 queue_mapping;
	__u32 protocol;
	__u32 vlan_present;
	__u32 vlan_tci;
	__u32 vlan_proto;
	__u32 priority;
	__u32 ingress_ifindex;
	__u32 ifindex;
	__u32 tc_index;
	__u32 cb[5];
	__u32 hash;
	__u32 tc_classid;
	__u32 data;
	__u32 data_end;
	__u32 napi_id;
};

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

/* ------------------------------------------------------------------ */
/* BPF_PROG (bpf_tracing.h equivalent)                                */
/* ------------------------------------------------------------------ */
/*
 * struct_ops (and tracing) programs get r1 = pointer to an array of u64 arguments.
 * BPF_PROG(name, typed args...) defines name(u64 *ctx) that unpacks ctx[i] into
 * the typed arguments of an always-inlined body.
 */
#define ___bpf_nth(_, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, N, ...) N
#define ___bpf_narg(...) ___bpf_nth(_, ##__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define ___bpf_apply(fn, n) ___bpf_concat(fn, n)

#define ___bpf_ctx_cast0()            ctx
#define ___bpf_ctx_cast1(x)           ___bpf_ctx_cast0(), (void *)ctx[0]
#define ___bpf_ctx_cast2(x, args...)  ___bpf_ctx_cast1(args), (void *)ctx[1]
#define ___bpf_ctx_cast3(x, args...)  ___bpf_ctx_cast2(args), (void *)ctx[2]
#define ___bpf_ctx_cast4(x, args...)  ___bpf_ctx_cast3(args), (void *)ctx[3]
#define ___bpf_ctx_cast5(x, args...)  ___bpf_ctx_cast4(args), (void *)ctx[4]
#define ___bpf_ctx_cast6(x, args...)  ___bpf_ctx_cast5(args), (void *)ctx[5]
#define ___bpf_ctx_cast7(x, args...)  ___bpf_ctx_cast6(args), (void *)ctx[6]
#define ___bpf_ctx_cast8(x, args...)  ___bpf_ctx_cast7(args), (void *)ctx[7]
#define ___bpf_ctx_cast(args...) ___bpf_apply(___bpf_ctx_cast, ___bpf_narg(args))(args)

#define BPF_PROG(name, args...)                                              \
	name(unsigned long long *ctx);                                       \
	static __always_inline typeof(name(0))                               \
	____##name(unsigned long long *ctx, ##args);                         \
	typeof(name(0)) name(unsigned long long *ctx)                        \
	{                                                                    \
		_Pragma("GCC diagnostic push")                               \
		_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")       \
		return ____##name(___bpf_ctx_cast(args));                    \
		_Pragma("GCC diagnostic pop")                                \
	}                                                                    \
	static __always_inline typeof(name(0))                               \
	____##name(unsigned long long *ctx, ##args)

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

/* ------------------------------------------------------------------ */
/* ublk UAPI: the I/O descriptor (include/uapi/linux/ublk_cmd.h)      */
/* ------------------------------------------------------------------ */
#define UBLK_IO_OP_READ 0
#define UBLK_IO_OP_WRITE 1
#define UBLK_IO_OP_FLUSH 2
#define UBLK_IO_OP_DISCARD 3
#define UBLK_IO_OP_WRITE_SAME 4
#define UBLK_IO_OP_WRITE_ZEROES 5
#define UBLK_IO_OP_ZONE_OPEN 10
#define UBLK_IO_OP_ZONE_CLOSE 11
#define UBLK_IO_OP_ZONE_FINISH 12
#define UBLK_IO_OP_ZONE_APPEND 13
#define UBLK_IO_OP_ZONE_RESET_ALL 14
#define UBLK_IO_OP_ZONE_RESET 15
#define UBLK_IO_OP_REPORT_ZONES 18

#define UBLK_IO_F_FAILFAST_DEV (1U << 8)
#define UBLK_IO_F_FAILFAST_TRANSPORT (1U << 9)
#define UBLK_IO_F_FAILFAST_DRIVER (1U << 10)
#define UBLK_IO_F_META (1U << 11)
#define UBLK_IO_F_FUA (1U << 13)
#define UBLK_IO_F_NOUNMAP (1U << 15)
#define UBLK_IO_F_SWAP (1U << 16)

/* 24 bytes: op in bits 0-7 of op_flags, flags above */
struct ublksrv_io_desc {
	__u32 op_flags;
	union {
		__u32 nr_sectors;
		__u32 nr_zones;
	};
	__u64 start_sector;
	__u64 addr;
} __attribute__((preserve_access_index));

static __always_inline __u8 ublksrv_get_op(const struct ublksrv_io_desc *iod)
{
	return iod->op_flags & 0xff;
}

static __always_inline __u32 ublksrv_get_flags(const struct ublksrv_io_desc *iod)
{
	return iod->op_flags >> 8;
}

/* ------------------------------------------------------------------ */
/* bpf aio (drivers/block/ublk/bpf_aio.h of the RFC)                  */
/* ------------------------------------------------------------------ */
#define BPF_AIO_OP_BITS 8
#define BPF_AIO_OP_MASK ((1 << BPF_AIO_OP_BITS) - 1)

enum bpf_aio_op {
	BPF_AIO_OP_FS_READ = 0,
	BPF_AIO_OP_FS_WRITE,
	BPF_AIO_OP_FS_FSYNC,
	BPF_AIO_OP_FS_FALLOCATE,
	BPF_AIO_OP_LAST,
};

enum bpf_aio_flag_bits {
	__BPF_AIO_FORCE_WQ = BPF_AIO_OP_BITS,
	__BPF_AIO_NR_BITS,
};

enum bpf_aio_flag {
	BPF_AIO_FORCE_WQ = (1 << __BPF_AIO_FORCE_WQ),
};

struct bio_vec {
	void *bv_page;
	unsigned int bv_len;
	unsigned int bv_offset;
} __attribute__((preserve_access_index));

struct bpf_aio_buf {
	unsigned int bvec_off;
	int nr_bvec;
	const struct bio_vec *bvec;
} __attribute__((preserve_access_index));

struct file;

/* the parts of struct kiocb a program may look at */
struct kiocb {
	struct file *ki_filp;
	loff_t ki_pos;
	void *ki_complete;
	void *private;
	int ki_flags;
	u16 ki_ioprio;
} __attribute__((preserve_access_index));

struct bpf_aio_work;
struct bpf_aio_complete_ops;

struct bpf_aio {
	unsigned int opf; /* op | flags */
	union {
		unsigned int bytes;
		unsigned int buf_size;
	};
	struct bpf_aio_buf buf;
	struct bpf_aio_work *work;
	const struct bpf_aio_complete_ops *ops;
	struct kiocb iocb;
	void *private_data;
} __attribute__((preserve_access_index));

typedef void (*bpf_aio_complete_t)(struct bpf_aio *io, long ret);

/* struct_ops "bpf_aio_complete_ops": completion callback of bpf aio, keyed by .id (kernel-private tail omitted) */
struct bpf_aio_complete_ops {
	unsigned int id;
	bpf_aio_complete_t bpf_aio_complete_cb;
} __attribute__((preserve_access_index));

/* ------------------------------------------------------------------ */
/* ublk-bpf (drivers/block/ublk/{ublk,bpf}.h of the RFC)              */
/* ------------------------------------------------------------------ */
enum {
	UBLK_BPF_IO_PREP = 0,
	UBLK_BPF_IO_COMPLETED = 1,
	UBLK_BPF_BVEC_ALLOCATED = 2,
};

typedef struct {
	int refs;
} refcount_t;

/* what a program gets for each I/O; read-only for programs (iod, res) */
struct ublk_bpf_io {
	const struct ublksrv_io_desc *iod;
	unsigned long flags;
	refcount_t ref;
	int res;
	struct bpf_aio_buf buf;
} __attribute__((preserve_access_index));

enum ublk_bpf_disposition {
	UBLK_BPF_IO_QUEUED = 0,
	UBLK_BPF_IO_REDIRECT,
	UBLK_BPF_IO_CONTINUE,
};

typedef unsigned long ublk_bpf_return_t;
typedef ublk_bpf_return_t (*queue_io_cmd_t)(struct ublk_bpf_io *io, unsigned int);
typedef void (*release_io_cmd_t)(struct ublk_bpf_io *io);
typedef int (*attach_dev_t)(int dev_id);
typedef void (*detach_dev_t)(int dev_id);

/*
 * struct_ops "ublk_bpf_ops"; a device attaches the ops whose .id it names. The kernel struct
 * ends with a private "provider" member, left out here: struct_ops loaders match members by name.
 */
struct ublk_bpf_ops {
	unsigned id;
	queue_io_cmd_t queue_io_cmd;        /* blk-mq context, not sleepable */
	queue_io_cmd_t queue_io_cmd_daemon; /* server task context, may sleep */
	release_io_cmd_t release_io_cmd;
	attach_dev_t attach_dev;
	detach_dev_t detach_dev;
} __attribute__((preserve_access_index));

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

#endif /* UBLKCTL_UBLK_BPF_H */
