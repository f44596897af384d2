/* compat: libbpf's bpf_helpers.h, the part ublk-bpf programs use */
#include <ublk_bpf_helpers.h>
