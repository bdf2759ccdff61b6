/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/socket.h>
#include <sys/types.h>

#include <string.h>
#include <unistd.h>

#include "fdpass.h"

/* Room for one descriptor, aligned as a cmsghdr must be. */
union onefd {
	struct cmsghdr	h;
	char		b[CMSG_SPACE(sizeof(int))];
};

static void
msg_init(struct msghdr *m, struct iovec *v, char *byte, union onefd *u)
{
	memset(m, 0, sizeof(*m));
	memset(u, 0, sizeof(*u));
	v->iov_base = byte;
	v->iov_len = 1;
	m->msg_iov = v;
	m->msg_iovlen = 1;
	m->msg_control = u->b;
	m->msg_controllen = sizeof(u->b);
}

int
fdpass_send(int sock, int fd, int flags)
{
	union onefd u;
	struct msghdr m;
	struct iovec v;
	struct cmsghdr *h;
	char byte = '\0';

	msg_init(&m, &v, &byte, &u);
	h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	return (int)sendmsg(sock, &m, MSG_NOSIGNAL | flags);
}

int
fdpass_recv(int sock, int *fd, int flags)
{
	union onefd u;
	struct msghdr m;
	struct iovec v;
	struct cmsghdr *h;
	char byte;
	int n, got, i, k;

	*fd = -1;
	msg_init(&m, &v, &byte, &u);
	if ((n = (int)recvmsg(sock, &m, MSG_CMSG_CLOEXEC | flags)) <= 0)
		return n;
	for (h = CMSG_FIRSTHDR(&m); h != NULL; h = CMSG_NXTHDR(&m, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		k = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (i = 0; i < k; i++) {
			memcpy(&got, CMSG_DATA(h) + i * sizeof(int),
			    sizeof(int));
			if (*fd == -1)
				*fd = got;
			else
				close(got);
		}
	}
	return n;
}
