/* SPDX-License-Identifier: MIT */
/*
 * ublk_bpf_tracing.h - BPF_PROG, as libbpf's bpf_tracing.h defines it for struct_ops
 * and tracing programs. Reached as compat/bpf/bpf_tracing.h.
 */
#ifndef UBLKCTL_BPF_TRACING_H
#define UBLKCTL_BPF_TRACING_H

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


#endif /* UBLKCTL_BPF_TRACING_H */
