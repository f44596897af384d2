/* compat: linux/errno.h */
#include <ublk_consts.h>
