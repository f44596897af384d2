/* compat: libbpf's bpf_tracing.h (BPF_PROG) */
#include <ublk_bpf_tracing.h>
