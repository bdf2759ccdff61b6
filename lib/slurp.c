/* SPDX-License-Identifier: AGPL-3.0-only */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "slurp.h"

int
slurp_fd(int fd, char *buf, size_t sz, size_t *lenp)
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
	}
	buf[len] = '\0';
	*lenp = len;
	if (len + 1 < sz)
		return 0;
	/* Full: one byte more tells a file that fits from one that grew. */
	while ((n = read(fd, &more, 1)) == -1 && errno == EINTR)
		;
	return n == -1 ? -1 : n > 0;
}

int
slurp(const char *path, int flags, char *buf, size_t sz, size_t *lenp)
{
	int fd, rc, saved;

	*lenp = 0;
	if (sz > 0)
		buf[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | flags)) == -1)
		return -1;
	rc = slurp_fd(fd, buf, sz, lenp);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}
