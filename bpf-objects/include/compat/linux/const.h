/* compat: linux/const.h (uapi): the constant-suffix helpers */
#ifndef UBLKCTL_COMPAT_LINUX_CONST_H
#define UBLKCTL_COMPAT_LINUX_CONST_H
#define __AC(X, Y) (X##Y)
#define _AC(X, Y) __AC(X, Y)
#define _AT(T, X) ((T)(X))
#define _UL(x) (_AC(x, UL))
#define _ULL(x) (_AC(x, ULL))
#define _BITUL(x) (_UL(1) << (x))
#define _BITULL(x) (_ULL(1) << (x))
#endif
