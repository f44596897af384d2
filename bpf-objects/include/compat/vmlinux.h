/* compat: what a program written for vmlinux.h + libbpf expects from vmlinux.h (types only) */
#include <ublk_vmlinux.h>
