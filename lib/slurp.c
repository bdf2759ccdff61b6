/* SPDX-License-Identifier: AGPL-3.0-only */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "slurp.h"

/*
 * Read into buf until EOF or sz - 1 bytes; once: one read(2) only, its
 * end taken for the file's. See slurp.h for the returns.
 */
static int
fill(int fd, char *buf, size_t sz, size_t *lenp, int once)
{
	size_t len = 0;
	ssize_t n;
	char more;

	*lenp = 0;
	if (sz == 0)
		return errno = EINVAL, -1;
	while (len + 1 < sz && (n = read(fd, buf + len, sz - 1 - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		len += (size_t)n;
		if (once)
			break;
	}
	buf[len] = '\0';
	*lenp = len;
	if (len + 1 < sz)
		return 0;
	if (once)
		return 1;
	/* Full: one byte more tells a file that fits from one that grew. */
	while ((n = read(fd, &more, 1)) == -1 && errno == EINTR)
		;
	return n == -1 ? -1 : n > 0;
}

int
slurp_fd(int fd, char *buf, size_t sz, size_t *lenp)
{
	return fill(fd, buf, sz, lenp, 0);
}

static int
open_fill(const char *path, int flags, char *buf, size_t sz, size_t *lenp,
    int once)
{
	int fd, rc, saved;

	*lenp = 0;
	if (sz > 0)
		buf[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | flags)) == -1)
		return -1;
	rc = fill(fd, buf, sz, lenp, once);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int
slurp(const char *path, int flags, char *buf, size_t sz, size_t *lenp)
{
	return open_fill(path, flags, buf, sz, lenp, 0);
}

int
slurp_once(const char *path, int flags, char *buf, size_t sz, size_t *lenp)
{
	return open_fill(path, flags, buf, sz, lenp, 1);
}

int
slurp_lines(const char *path, char *buf, size_t sz,
    int (*fn)(char *, void *), void *arg)
{
	size_t have = 0, len;
	ssize_t n;
	char *ln, *nl;
	int fd, rc = 0, skip = 0;

	if (sz < 2 || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (rc == 0 && (n = read(fd, buf + have, sz - 1 - have)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			rc = -1;
			break;
		}
		have += (size_t)n;
		buf[have] = '\0';
		for (ln = buf; rc == 0 && (nl = memchr(ln, '\n',
		    have - (size_t)(ln - buf))) != NULL; ln = nl + 1) {
			*nl = '\0';
			if (!skip)
				rc = fn(ln, arg);
			skip = 0;
		}
		len = have - (size_t)(ln - buf);
		if (len == sz - 1) {
			/* No newline in a full buffer: skip to the next. */
			skip = 1;
			len = 0;
		}
		memmove(buf, ln, len);
		have = len;
	}
	/* A last line without its newline. */
	if (rc == 0 && have > 0 && !skip) {
		buf[have] = '\0';
		rc = fn(buf, arg);
	}
	close(fd);
	return rc;
}
