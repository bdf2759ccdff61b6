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

/*
 * The same in one read(2), for files written whole and renamed into
 * place, or made by the kernel in one go (/proc/PID/stat): a short read
 * is their end, and the second read that would say so is saved. 1 when
 * the read filled buf (the file may be longer).
 */
int	slurp_once(const char *path, int flags, char *buf, size_t sz,
	    size_t *lenp);

/*
 * Each line of path, its newline gone, to fn(line, arg), read with
 * read(2) through buf (sz bytes, the caller's, on its stack say): no
 * stdio, whose FILE and buffer, once freed, stay in malloc's per-thread
 * cache and pin heap pages a long-lived process would hand back. A line
 * longer than sz - 1 bytes is skipped. Stops at the first fn that returns
 * non-zero and returns that; 0 at the end; -1 with errno set.
 */
int	slurp_lines(const char *path, char *buf, size_t sz,
	    int (*)(char *, void *), void *);

#endif
