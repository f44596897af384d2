/* compat: linux/falloc.h */
#include <ublk_consts.h>
