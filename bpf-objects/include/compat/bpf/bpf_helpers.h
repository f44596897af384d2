/* compat shim: lets programs written for vmlinux.h + libbpf build against ublk_bpf.h */
#include <ublk_bpf.h>
