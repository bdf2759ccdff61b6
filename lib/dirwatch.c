/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/inotify.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "dirwatch.h"

int
dirwatch_open(const char *const dirs[], size_t n, uint32_t mask)
{
	size_t i;
	int fd, saved;

	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return -1;
	/* The same directory twice is one watch (the kernel's own rule). */
	for (i = 0; i < n; i++)
		if (inotify_add_watch(fd, dirs[i], mask) == -1) {
			saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
	return fd;
}

int
dirwatch_drain(int fd, void (*fn)(const char *, void *), void *arg)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	int lost = 0;
	ssize_t len;
	char *p;

	while ((len = read(fd, buf, sizeof(buf))) > 0)
		for (p = buf; p < buf + len; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			if (ev->mask & IN_Q_OVERFLOW)
				lost = 1;
			else if (ev->len > 0 && ev->name[0] != '\0')
				fn(ev->name, arg);
		}
	return lost;
}
