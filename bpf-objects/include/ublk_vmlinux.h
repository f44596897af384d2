/* SPDX-License-Identifier: MIT */
/*
 * ublk_vmlinux.h - the kernel types a ublk-bpf program sees, as vmlinux.h gives them:
 * basic types, map types and flags, the XDP/socket contexts, the ublk I/O descriptor,
 * bpf aio, struct ublk_bpf_io / ublk_bpf_ops and the disposition enum of the RFC.
 *
 * Types only, like vmlinux.h: no functions, no kfunc declarations. A program written for
 * the RFC's selftests brings those in its own ublk_bpf.h / ublk_bpf_kfunc.h, so this
 * header (reached as compat/vmlinux.h) must not define them a second time; ublkctl's own
 * programs get them from ublkctl_kfunc.h through ublk_bpf.h.
 *
 * Kernel structs are marked preserve_access_index (as vmlinux.h does) so that a loader
 * targeting a real kernel can relocate field offsets with CO-RE.
 */
#ifndef UBLKCTL_VMLINUX_H
#define UBLKCTL_VMLINUX_H

#if !defined(__bpf__) && !defined(__BPF__)
#error "the ublkctl BPF headers are for BPF programs: compile with clang -target bpf"
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


#endif /* UBLKCTL_VMLINUX_H */
