/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef NETWATCH_H
#define NETWATCH_H

#include <sys/types.h>

#include <stdint.h>

/*
 * The kernel plumbing the supervisor uses (Linux): netlink news of links,
 * addresses and routes appearing; a process's TCP connection found
 * through /proc/PID/fd and /proc/net/tcp{,6}; and that connection reset
 * with sock_diag SOCK_DESTROY.
 */
struct nw_conn {
	int		 family;	/* 0: none known */
	uint32_t	 src[4], dst[4];	/* as in /proc/net/tcp: network order */
	uint16_t	 sport, dport;	/* host order */
	unsigned long	 inode;
};

int	netwatch_open(void);
int	netwatch_news(int);
int	netwatch_conn(pid_t, struct nw_conn *);
int	netwatch_conn_proc(pid_t, struct nw_conn *);
int	netwatch_reset(const struct nw_conn *);

#endif
