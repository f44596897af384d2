// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel-loadable BPF_PROG_TYPE_SYSCALL programs for the VM tests: pure
 * computations on a context struct (in/out through PROG_TEST_RUN ctx), using
 * 32- and 64-bit ALU, division (clang 14 has no signed BPF division, so
 * signs are handled by hand), shifts, byte swaps, bounded loops,
 * a lookup table in .rodata and global subprograms.
 */
#include "ublk_bpf.h"

struct calc_args {
	__s64 a;
	__s64 b;
	__u32 n;
	__u32 flags;
	__s64 out[6];
};

static const __u32 crc_table[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
	0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

/* nibble-wise CRC32 of the 8 bytes of v */
static __noinline __u32 crc32_u64(__u64 v)
{
	__u32 crc = 0xffffffff;
	int i;

	for (i = 0; i < 16; i++) {
		crc = crc_table[(crc ^ (v >> (i * 4))) & 15] ^ (crc >> 4);
	}
	return ~crc;
}

static __u64 uabs(__s64 v)
{
	return v < 0 ? -(__u64)v : (__u64)v;
}

static __noinline __u64 gcd(__s64 sa, __s64 sb)
{
	__u64 a = uabs(sa), b = uabs(sb);
	int i;

	for (i = 0; i < 64 && b != 0; i++) {
		__u64 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

SEC("syscall")
int calc(struct calc_args *args)
{
	__s64 a = args->a, b = args->b;
	__u32 n = args->n;
	__u64 sum = 0;
	int i;

	if (b) {
		__u64 q = uabs(a) / uabs(b);

		args->out[0] = (a < 0) != (b < 0) ? -(__s64)q : (__s64)q;
	} else {
		args->out[0] = 0;
	}
	args->out[1] = gcd(a, b);
	args->out[2] = crc32_u64((__u64)a ^ ((__u64)b << 1));
	for (i = 0; i < 32; i++) {
		if (i >= n)
			break;
		sum += (__u64)(a >> (i & 63)) * (i + 1);
	}
	args->out[3] = sum;
	args->out[4] = __builtin_bswap64((__u64)a) ^ __builtin_bswap32((__u32)b);
	args->out[5] = (__s32)((__u32)a * 2654435761u) >> 7;
	return (int)(args->out[2] & 0x7fffffff);
}

char LICENSE[] SEC("license") = "GPL";
