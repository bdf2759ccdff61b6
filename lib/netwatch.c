/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "netwatch.h"
#include "slurp.h"

/* What conn_line looks for, and where it puts what it found. */
struct conn_want {
	int		 family;
	unsigned long	 ino;
	struct nw_conn	*c;
};

/* One line of /proc/net/tcp{,6}: the connection if its inode is w->ino. */
static int
conn_line(char *l, void *arg)
{
	struct conn_want *w = arg;
	struct nw_conn *c = w->c;
	char src[40], dst[40];
	unsigned sport, dport, st, i;
	unsigned long inode;
	int n = w->family == AF_INET ? 1 : 4;

	if (sscanf(l, "%*u: %39[0-9A-F]:%x %39[0-9A-F]:%x %x %*s %*s %*s "
	    "%*u %*u %lu", src, &sport, dst, &dport, &st, &inode) != 6 ||
	    inode != w->ino || st != 1 || strlen(src) != (size_t)n * 8 ||
	    strlen(dst) != (size_t)n * 8)
		return 0;
	memset(c, 0, sizeof(*c));
	for (i = 0; i < (unsigned)n; i++) {
		sscanf(src + 8 * i, "%8" SCNx32, &c->src[i]);
		sscanf(dst + 8 * i, "%8" SCNx32, &c->dst[i]);
	}
	c->family = w->family;
	c->sport = (uint16_t)sport;
	c->dport = (uint16_t)dport;
	c->inode = inode;
	return 1;
}

/*
 * Socket fd of the process of pidfd, if an established TCP connection,
 * into c, through a copy of it (pidfd_getfd): 1 it is, 0 it is not, -1
 * no copy to be had (kernels before 5.6; ptrace refused).
 */
static int
conn_fd(int pidfd, int fd, struct nw_conn *c)
{
	struct sockaddr_storage l, r;
	struct tcp_info ti;
	struct stat sb;
	socklen_t ll = sizeof(l), rl = sizeof(r), tl = sizeof(ti),
	    pl = sizeof(int);
	int s, proto, ok = 0;

	if ((s = pidfd_getfd(pidfd, fd, 0)) == -1)
		return errno == EBADF ? 0 : -1;
	if (fstat(s, &sb) == 0 && S_ISSOCK(sb.st_mode) &&
	    getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &proto, &pl) == 0 &&
	    proto == IPPROTO_TCP &&
	    getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
	    ti.tcpi_state == TCP_ESTABLISHED &&
	    getsockname(s, (struct sockaddr *)&l, &ll) == 0 &&
	    getpeername(s, (struct sockaddr *)&r, &rl) == 0 &&
	    l.ss_family == r.ss_family) {
		memset(c, 0, sizeof(*c));
		c->family = l.ss_family;
		if (l.ss_family == AF_INET) {
			c->src[0] = ((struct sockaddr_in *)&l)->sin_addr.s_addr;
			c->dst[0] = ((struct sockaddr_in *)&r)->sin_addr.s_addr;
			c->sport = ntohs(((struct sockaddr_in *)&l)->sin_port);
			c->dport = ntohs(((struct sockaddr_in *)&r)->sin_port);
		} else {
			memcpy(c->src, &((struct sockaddr_in6 *)&l)->sin6_addr,
			    sizeof(c->src));
			memcpy(c->dst, &((struct sockaddr_in6 *)&r)->sin6_addr,
			    sizeof(c->dst));
			c->sport = ntohs(((struct sockaddr_in6 *)&l)->sin6_port);
			c->dport = ntohs(((struct sockaddr_in6 *)&r)->sin6_port);
		}
		c->inode = (unsigned long)sb.st_ino;
		ok = c->family == AF_INET || c->family == AF_INET6;
		if (!ok)
			c->family = 0;
	}
	close(s);
	return ok;
}

/*
 * The established TCP connection of process pid (the first found) into
 * conn: 0, or -1 when it has none. Meant for ssh once its forwards are
 * confirmed: then that is its connection to the bastion (no channel is
 * open yet); through a ProxyJump there is none. Read off a copy of each
 * of its sockets (copy); where no copy is to be had, found by inode in
 * /proc/net/tcp{,6}, which the kernel formats whole for every read: with
 * 500 tunnels on a host, 500 lines for each of 500 supervisors.
 */
static int
conn_find(pid_t pid, struct nw_conn *conn, int copy)
{
	static const struct { const char *path; int family; } tabs[] = {
		{ "/proc/net/tcp", AF_INET }, { "/proc/net/tcp6", AF_INET6 },
	};
	char path[64], link[64], line[512];
	unsigned long ino;
	struct conn_want w = { 0, 0, conn };
	struct dirent *d;
	DIR *dir;
	size_t i;
	int pidfd, fd, rc;

	conn->family = 0;
	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if ((dir = opendir(path)) == NULL)
		return -1;
	pidfd = copy ? pidfd_open(pid, 0) : -1;
	while (conn->family == 0 && (d = readdir(dir)) != NULL) {
		snprintf(path, sizeof(path), "/proc/%ld/fd/%.16s",
		    (long)pid, d->d_name);
		memset(link, 0, sizeof(link));
		if (readlink(path, link, sizeof(link) - 1) == -1 ||
		    sscanf(link, "socket:[%lu]", &ino) != 1 ||
		    sscanf(d->d_name, "%d", &fd) != 1)
			continue;
		if (pidfd != -1 && (rc = conn_fd(pidfd, fd, conn)) != -1) {
			/* The same socket still: fd not closed and reused. */
			if (rc == 1 && conn->inode != ino)
				conn->family = 0;
			continue;
		}
		for (i = 0; i < 2 && conn->family == 0; i++) {
			w.family = tabs[i].family;
			w.ino = ino;
			(void)slurp_lines(tabs[i].path, line, sizeof(line),
			    conn_line, &w);
		}
	}
	if (pidfd != -1)
		close(pidfd);
	closedir(dir);
	return conn->family != 0 ? 0 : -1;
}

int
netwatch_conn(pid_t pid, struct nw_conn *conn)
{
	return conn_find(pid, conn, 1);
}

/* The same, found in /proc/net/tcp{,6} only (the unit test compares). */
int
netwatch_conn_proc(pid_t pid, struct nw_conn *conn)
{
	return conn_find(pid, conn, 0);
}

/* A sock_diag request about the noted connection; the answer in buf. */
static int
conn_ask(const struct nw_conn *c, int type, char *buf, size_t sz)
{
	struct {
		struct nlmsghdr		nh;
		struct inet_diag_req_v2	r;
	} req;
	struct sockaddr_nl sa;
	ssize_t n;
	int fd;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = (uint16_t)type;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.r.sdiag_family = (uint8_t)c->family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0U;
	req.r.id.idiag_sport = htons(c->sport);
	req.r.id.idiag_dport = htons(c->dport);
	memcpy(req.r.id.idiag_src, c->src, sizeof(c->src));
	memcpy(req.r.id.idiag_dst, c->dst, sizeof(c->dst));
	req.r.id.idiag_cookie[0] = req.r.id.idiag_cookie[1] =
	    INET_DIAG_NOCOOKIE;
	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	n = -1;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa,
	    sizeof(sa)) == (ssize_t)sizeof(req))
		n = recv(fd, buf, sz, 0);
	close(fd);
	return n >= (ssize_t)sizeof(struct nlmsghdr) ? 0 : -1;
}

/*
 * The stale half of a dead link on our side: ssh has closed its socket,
 * but the kernel still retransmits its FIN, in ever longer intervals, and
 * the bastion's session waits as long before it learns that we are gone
 * and lets the remote port go. Destroying that socket (sock_diag
 * SOCK_DESTROY; needs CAP_NET_ADMIN) sends the bastion a reset now. Only
 * a socket that no process holds any more (an orphan) or that is still
 * the one ssh had is touched. 0 when it was reset.
 */
int
netwatch_reset(const struct nw_conn *conn)
{
	char buf[1024] __attribute__((aligned(__alignof__(struct nlmsghdr))));
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct inet_diag_msg *m = NLMSG_DATA(nh);
	struct nlmsgerr *err = NLMSG_DATA(nh);

	if (conn->family == 0 ||
	    conn_ask(conn, SOCK_DIAG_BY_FAMILY, buf, sizeof(buf)) == -1 ||
	    nh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) ||
	    (m->idiag_inode != 0 && m->idiag_inode != conn->inode))
		return -1;
	if (conn_ask(conn, SOCK_DESTROY, buf, sizeof(buf)) == -1 ||
	    nh->nlmsg_type != NLMSG_ERROR ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*err)) || err->error != 0)
		return -1;
	return 0;
}

/* A netlink socket told of links, addresses and routes; -1 on error. */
int
netwatch_open(void)
{
	struct sockaddr_nl sa;
	int fd;

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    NETLINK_ROUTE)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
	    RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 1 when the messages waiting on fd tell of something appearing: a link,
 * an address or a route (a path may have come back). */
int
netwatch_news(int fd)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct nlmsghdr))));
	struct nlmsghdr *nh;
	ssize_t n;
	int news = 0;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0 ||
	    (n == -1 && errno == ENOBUFS)) {
		if (n == -1) {		/* overrun: assume something changed */
			news = 1;
			continue;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		    nh = NLMSG_NEXT(nh, n))
			if (nh->nlmsg_type == RTM_NEWLINK ||
			    nh->nlmsg_type == RTM_NEWADDR ||
			    nh->nlmsg_type == RTM_NEWROUTE)
				news = 1;
	}
	return news;
}
