/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * The connection of a process: read off a copy of its socket as from
 * /proc/net/tcp{,6}, the same; a socket that is not an established TCP
 * connection is none.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "netwatch.h"

/* What the child says of its socket. */
struct said {
	unsigned long	ino;
	uint16_t	port;
};

/*
 * A child that holds a unix socket pair, a listening socket and, when
 * to is set, a TCP connection to it; it says its connection's inode and
 * port, then waits until hold is closed.
 */
static pid_t
holder(int family, const struct sockaddr *to, socklen_t tolen, int *hold,
    struct said *said)
{
	struct sockaddr_storage me;
	socklen_t ml = sizeof(me);
	struct said w = { 0, 0 };
	struct stat sb;
	int tell[2], wait_[2], sp[2], s, l;
	char c;
	pid_t pid;

	assert_int_equal(pipe(tell), 0);
	assert_int_equal(pipe(wait_), 0);
	assert_int_not_equal(pid = fork(), -1);
	if (pid == 0) {
		close(tell[0]);
		close(wait_[1]);
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1 ||
		    (l = socket(family, SOCK_STREAM, 0)) == -1 ||
		    listen(l, 1) == -1)
			_exit(1);
		if (to != NULL) {
			if ((s = socket(family, SOCK_STREAM, 0)) == -1 ||
			    connect(s, to, tolen) == -1 ||
			    fstat(s, &sb) == -1 ||
			    getsockname(s, (struct sockaddr *)&me, &ml) == -1)
				_exit(1);
			w.ino = (unsigned long)sb.st_ino;
			w.port = ntohs(family == AF_INET ?
			    ((struct sockaddr_in *)&me)->sin_port :
			    ((struct sockaddr_in6 *)&me)->sin6_port);
		}
		if (write(tell[1], &w, sizeof(w)) != sizeof(w))
			_exit(1);
		_exit(read(wait_[0], &c, 1) == 0 ? 0 : 1);
	}
	close(tell[1]);
	close(wait_[0]);
	assert_int_equal(read(tell[0], &w, sizeof(w)), sizeof(w));
	close(tell[0]);
	*hold = wait_[1];
	*said = w;
	return pid;
}

static void
done(pid_t pid, int hold)
{
	int st;

	close(hold);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* One family: the child's connection found both ways, alike. */
static void
check(int family)
{
	struct sockaddr_storage a;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&a;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&a;
	socklen_t al = family == AF_INET ? sizeof(*a4) : sizeof(*a6);
	struct nw_conn c1, c2;
	struct said w;
	int l, h;
	uint16_t lport;
	pid_t pid;

	memset(&a, 0, sizeof(a));
	a.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		a6->sin6_addr = in6addr_loopback;
	assert_int_not_equal(l = socket(family, SOCK_STREAM, 0), -1);
	assert_int_equal(bind(l, (struct sockaddr *)&a, al), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
	lport = ntohs(family == AF_INET ? a4->sin_port : a6->sin6_port);

	pid = holder(family, (struct sockaddr *)&a, al, &h, &w);
	assert_int_equal(netwatch_conn(pid, &c1), 0);
	assert_int_equal(netwatch_conn_proc(pid, &c2), 0);
	assert_int_equal(c1.family, family);
	assert_int_equal(c1.dport, lport);
	assert_int_equal(c1.sport, w.port);
	assert_int_equal(c1.inode, w.ino);
	if (family == AF_INET) {
		assert_int_equal(c1.src[0], htonl(INADDR_LOOPBACK));
		assert_int_equal(c1.dst[0], htonl(INADDR_LOOPBACK));
	} else
		assert_memory_equal(c1.dst, &in6addr_loopback, 16);
	assert_memory_equal(&c1, &c2, sizeof(c1));
	done(pid, h);

	/* Listening, a unix pair: no connection either way. */
	pid = holder(family, NULL, 0, &h, &w);
	assert_int_equal(netwatch_conn(pid, &c1), -1);
	assert_int_equal(c1.family, 0);
	assert_int_equal(netwatch_conn_proc(pid, &c2), -1);
	done(pid, h);
	close(l);

	/* Gone: none. */
	assert_int_equal(netwatch_conn(pid, &c1), -1);
}

static void
t_conn4(void **st)
{
	check(AF_INET);
}

static void
t_conn6(void **st)
{
	check(AF_INET6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_conn4),
		cmocka_unit_test(t_conn6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
