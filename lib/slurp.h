/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef SLURP_H
#define SLURP_H

#include <stddef.h>

/*
 * A whole (small) file into buf, NUL-terminated, its length in *lenp:
 * 0 when all of it fitted in sz - 1 bytes, 1 when there is more (buf
 * holds the start), -1 with errno set. slurp() opens path O_RDONLY |
 * O_CLOEXEC | flags (O_NOFOLLOW, say) and closes it again.
 */
int	slurp_fd(int fd, char *buf, size_t sz, size_t *lenp);
int	slurp(const char *path, int flags, char *buf, size_t sz,
	    size_t *lenp);

#endif
