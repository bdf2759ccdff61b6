/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * relay.c: the pump over real pipes, socketpairs and loopback TCP (the pump
 * runs in a child, writers in others, the test reads and verifies), fd
 * passing read back the way ssh reads it, and connect's failures.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "relay.h"

#define MiB	(1024 * 1024)

/* Byte i of stream seed: cheap, position-dependent, catches reordering. */
static unsigned char
pat(uint64_t i, unsigned seed)
{
	return (unsigned char)(((i * 2654435761u) >> 11) ^ (i >> 20) ^ seed);
}

/* In a child: close every descriptor above 2 except those in keep. */
static void
keep_only(const int *keep, int n)
{
	int fd, i, k;

	for (fd = 3; fd < 256; fd++) {
		for (k = 0, i = 0; i < n; i++)
			if (keep[i] == fd)
				k = 1;
		if (!k)
			(void)close(fd);
	}
}

/* Fork the pump on sock/in/out; the child exits 0 or 1 (message on stderr). */
static pid_t
spawn_pump(int sock, int in, int out)
{
	struct sxerr e;
	int keep[3] = { sock, in, out };
	pid_t pid;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		(void)signal(SIGPIPE, SIG_IGN);
		keep_only(keep, 3);
		if (relay_pump(sock, in, out, &e) == -1) {
			fprintf(stderr, "relay_pump: %s\n", e.msg);
			_exit(1);
		}
		_exit(0);
	}
	return pid;
}

/* Fork a writer of n pattern bytes into fd, which it then ends. */
static pid_t
spawn_writer(int fd, size_t n, unsigned seed)
{
	unsigned char buf[65536];
	size_t i, off = 0, len;
	ssize_t w;
	pid_t pid;

	pid = fork();
	assert_true(pid != -1);
	if (pid != 0)
		return pid;
	(void)signal(SIGPIPE, SIG_IGN);
	keep_only(&fd, 1);
	while (off < n) {
		len = n - off < sizeof(buf) ? n - off : sizeof(buf);
		for (i = 0; i < len; i++)
			buf[i] = pat(off + i, seed);
		if ((w = write(fd, buf, len)) == -1)
			_exit(1);
		off += w;
	}
	if (shutdown(fd, SHUT_WR) == -1)
		(void)close(fd);
	_exit(0);
}

static int
exit_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) == -1)
		assert_int_equal(errno, EINTR);
	if (!WIFEXITED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* Read fd to EOF checking every byte against stream seed; returns count. */
static size_t
read_verify(int fd, unsigned seed)
{
	unsigned char buf[65536];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t off = 0;
	ssize_t n, i;

	for (;;) {
		assert_int_equal(poll(&p, 1, 30000), 1);
		n = read(fd, buf, sizeof(buf));
		assert_true(n >= 0);
		if (n == 0)
			return off;
		for (i = 0; i < n; i++)
			if (buf[i] != pat(off + i, seed))
				fail_msg("byte %zu differs", off + (size_t)i);
		off += n;
	}
}

/* Two readers at once: rd[i] to EOF, verified against seed[i]. */
static void
read_both(int rd[2], const unsigned seed[2], size_t got[2])
{
	unsigned char buf[65536];
	struct pollfd p[2];
	ssize_t n, j;
	int i, open = 2;

	got[0] = got[1] = 0;
	for (i = 0; i < 2; i++) {
		p[i].fd = rd[i];
		p[i].events = POLLIN;
	}
	while (open > 0) {
		assert_true(poll(p, 2, 30000) > 0);
		for (i = 0; i < 2; i++) {
			if (p[i].fd == -1 || p[i].revents == 0)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			assert_true(n >= 0);
			if (n == 0) {
				p[i].fd = -1;
				open--;
				continue;
			}
			for (j = 0; j < n; j++)
				if (buf[j] != pat(got[i] + j, seed[i]))
					fail_msg("stream %d: byte %zu differs",
					    i, got[i] + (size_t)j);
			got[i] += n;
		}
	}
}

/* A connected loopback TCP pair: sv[0] the client, sv[1] the server. */
static void
tcp_pair(int sv[2])
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int l;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((l = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	assert_true((sv[0] = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	assert_int_equal(connect(sv[0], (struct sockaddr *)&sin, len), 0);
	assert_true((sv[1] = accept(l, NULL, NULL)) != -1);
	(void)close(l);
}

/*
 * Both directions at once: n bytes from inw (the writer's end of in) to
 * the peer, n bytes from the peer to outr (the reader's end of out).
 */
static void
both_ways(int sock, int peer, int in, int inw, int out, int outr, size_t n)
{
	pid_t pump, w1, w2;
	int rd[2] = { peer, outr };
	unsigned seed[2] = { 1, 2 };
	size_t got[2];

	pump = spawn_pump(sock, in, out);
	w1 = spawn_writer(inw, n, 1);
	w2 = spawn_writer(peer, n, 2);
	(void)close(sock);
	(void)close(in);
	(void)close(inw);
	if (out != in)
		(void)close(out);
	read_both(rd, seed, got);
	assert_int_equal(got[0], n);
	assert_int_equal(got[1], n);
	assert_int_equal(exit_status(w1), 0);
	assert_int_equal(exit_status(w2), 0);
	assert_int_equal(exit_status(pump), 0);
	(void)close(peer);
	if (outr != peer)
		(void)close(outr);
}

/* ProxyCommand's case: stdin and stdout are pipes, splice goes direct. */
static void
t_pipes_tcp(void **state)
{
	int s[2], a[2], b[2];

	tcp_pair(s);
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	both_ways(s[0], s[1], a[0], a[1], b[1], b[0], 48 * MiB + 12345);
}

/* No pipe anywhere: splice through the private pipes. */
static void
t_sockets_tcp(void **state)
{
	int s[2], x[2], y[2];

	tcp_pair(s);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, x), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, y), 0);
	both_ways(s[0], s[1], x[0], x[1], y[0], y[1], 48 * MiB + 777);
}

/* One socket as both stdin and stdout (inetd style): out is shut down. */
static void
t_same_socket(void **state)
{
	int s[2], x[2], dup1;
	pid_t pump, w1, w2;
	int rd[2];
	unsigned seed[2] = { 1, 2 };
	size_t got[2];

	tcp_pair(s);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, x), 0);
	pump = spawn_pump(s[0], x[0], x[0]);
	assert_true((dup1 = dup(x[1])) != -1);
	w1 = spawn_writer(x[1], 8 * MiB, 1);
	w2 = spawn_writer(s[1], 8 * MiB, 2);
	(void)close(s[0]);
	(void)close(x[0]);
	(void)close(x[1]);
	rd[0] = s[1];
	rd[1] = dup1;
	read_both(rd, seed, got);
	assert_int_equal(got[0], 8 * MiB);
	assert_int_equal(got[1], 8 * MiB);
	assert_int_equal(exit_status(w1), 0);
	assert_int_equal(exit_status(w2), 0);
	assert_int_equal(exit_status(pump), 0);
	(void)close(s[1]);
	(void)close(dup1);
}

/* splice refuses an O_APPEND target (EINVAL): read/write takes over. */
static void
t_copy_fallback(void **state)
{
	char inpath[] = "/tmp/relay-in.XXXXXX", outpath[] = "/tmp/relay-out.XXXXXX";
	unsigned char buf[4096];
	int s[2], in, out, fd;
	size_t i, n = 3 * MiB + 5;
	pid_t pump, w;

	tcp_pair(s);
	assert_true((in = mkstemp(inpath)) != -1);
	for (i = 0; i < n; i += sizeof(buf)) {
		size_t k, len = n - i < sizeof(buf) ? n - i : sizeof(buf);

		for (k = 0; k < len; k++)
			buf[k] = pat(i + k, 1);
		assert_int_equal(write(in, buf, len), (ssize_t)len);
	}
	assert_int_equal(lseek(in, 0, SEEK_SET), 0);
	assert_true((fd = mkstemp(outpath)) != -1);
	assert_true((out = open(outpath, O_WRONLY | O_APPEND)) != -1);
	(void)unlink(inpath);
	(void)unlink(outpath);
	pump = spawn_pump(s[0], in, out);
	w = spawn_writer(s[1], n, 2);
	(void)close(s[0]);
	(void)close(in);
	(void)close(out);
	assert_int_equal(read_verify(s[1], 1), n);
	assert_int_equal(exit_status(w), 0);
	assert_int_equal(exit_status(pump), 0);
	assert_int_equal(read_verify(fd, 2), n);
	(void)close(fd);
	(void)close(s[1]);
}

/* Reads exactly what remains on fd until EOF into buf (NUL-terminated). */
static void
read_all(int fd, char *buf, size_t size)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t off = 0;
	ssize_t n;

	for (;;) {
		assert_int_equal(poll(&p, 1, 30000), 1);
		n = read(fd, buf + off, size - 1 - off);
		assert_true(n >= 0);
		if (n == 0)
			break;
		off += n;
	}
	buf[off] = '\0';
}

/*
 * The pump between pipes and loopback TCP as under ssh; the test keeps
 * s[1] (the host), a[1] (writes stdin) and b[0] (reads stdout).
 */
static pid_t
pump_pipes(int s[2], int a[2], int b[2])
{
	pid_t pump;

	tcp_pair(s);
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	pump = spawn_pump(s[0], a[0], b[1]);
	(void)close(s[0]);
	(void)close(a[0]);
	(void)close(b[1]);
	return pump;
}

/* EOF on stdin reaches the host as a FIN; the host may still answer. */
static void
t_halfclose_in(void **state)
{
	char buf[64];
	int s[2], a[2], b[2];
	pid_t pump;

	pump = pump_pipes(s, a, b);
	assert_int_equal(write(a[1], "ping", 4), 4);
	(void)close(a[1]);
	read_all(s[1], buf, sizeof(buf));
	assert_string_equal(buf, "ping");
	assert_int_equal(write(s[1], "late answer", 11), 11);
	assert_int_equal(shutdown(s[1], SHUT_WR), 0);
	read_all(b[0], buf, sizeof(buf));
	assert_string_equal(buf, "late answer");
	assert_int_equal(exit_status(pump), 0);
	(void)close(s[1]);
	(void)close(b[0]);
}

/* EOF from the host reaches stdout's reader; stdin still flows after it. */
static void
t_halfclose_sock(void **state)
{
	char buf[64];
	int s[2], a[2], b[2];
	pid_t pump;

	pump = pump_pipes(s, a, b);
	assert_int_equal(write(s[1], "bye", 3), 3);
	assert_int_equal(shutdown(s[1], SHUT_WR), 0);
	read_all(b[0], buf, sizeof(buf));
	assert_string_equal(buf, "bye");
	assert_int_equal(write(a[1], "still here", 10), 10);
	(void)close(a[1]);
	read_all(s[1], buf, sizeof(buf));
	assert_string_equal(buf, "still here");
	assert_int_equal(exit_status(pump), 0);
	(void)close(s[1]);
	(void)close(b[0]);
}

/* stdout's reader gone (EPIPE), then the host resets: a normal end. */
static void
t_peer_gone(void **state)
{
	int s[2], a[2], b[2];
	pid_t pump, w;

	pump = pump_pipes(s, a, b);
	(void)close(b[0]);
	w = spawn_writer(s[1], 4 * MiB, 2);
	(void)close(s[1]);
	/* As ssh does when it goes: stdout's reader first, then stdin. */
	(void)close(a[1]);
	assert_int_equal(exit_status(pump), 0);
	/* The writer sees EPIPE or a reset: the pump is what is tested. */
	(void)exit_status(w);
}

/*
 * Nagle's algorithm off on the connection, as ssh has it for interactive
 * sessions: else a write-write-read exchange waits for a delayed ACK.
 */
static void
t_nodelay(void **state)
{
	char c;
	int s[2], a[2], b[2], keep, on = 0;
	socklen_t len = sizeof(on);
	pid_t pump;

	tcp_pair(s);
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	assert_true((keep = dup(s[0])) != -1);
	pump = spawn_pump(s[0], a[0], b[1]);
	(void)close(s[0]);
	(void)close(a[0]);
	(void)close(b[1]);
	/* A byte through means the pump has set its socket up. */
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(read(s[1], &c, 1), 1);
	assert_int_equal(getsockopt(keep, IPPROTO_TCP, TCP_NODELAY, &on,
	    &len), 0);
	assert_int_equal(on, 1);
	(void)close(a[1]);
	assert_int_equal(shutdown(s[1], SHUT_WR), 0);
	assert_int_equal(exit_status(pump), 0);
	(void)close(keep);
	(void)close(s[1]);
	(void)close(b[0]);
}

/* Received exactly as OpenSSH's mm_receive_fd does: one byte, one fd. */
static void
t_sendfd(void **state)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct sxerr e;
	struct msghdr msg;
	struct cmsghdr *c;
	struct iovec iov;
	char ch, buf[8];
	int sv[2], p[2], fd;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(relay_sendfd(sv[0], p[1], &e), 0);
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = &ch;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	assert_int_equal(recvmsg(sv[1], &msg, 0), 1);
	assert_true((c = CMSG_FIRSTHDR(&msg)) != NULL);
	assert_int_equal(c->cmsg_level, SOL_SOCKET);
	assert_int_equal(c->cmsg_type, SCM_RIGHTS);
	assert_int_equal(c->cmsg_len, CMSG_LEN(sizeof(int)));
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	assert_int_equal(write(fd, "fd!", 3), 3);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "fd!", 3);
	(void)close(fd);
	(void)close(p[0]);
	(void)close(p[1]);
	(void)close(sv[0]);
	(void)close(sv[1]);
}

/* -P without ProxyUseFdpass: stdout is a pipe. */
static void
t_sendfd_not_socket(void **state)
{
	struct sxerr e;
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(relay_sendfd(p[1], p[0], &e), -1);
	assert_int_equal(e.ex, EX_CONFIG);
	assert_non_null(strstr(e.msg, "ProxyUseFdpass"));
	(void)close(p[0]);
	(void)close(p[1]);
}

/* A socket bound to a loopback port of family af; listening or not. */
static int
bound(int af, int listening, char *port, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (af == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	if ((fd = socket(af, SOCK_STREAM, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    (listening && listen(fd, 0) == -1) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		(void)close(fd);
		return -1;
	}
	snprintf(port, size, "%u", ntohs(af == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port));
	return fd;
}

static void
connect_ok(int af, const char *host)
{
	struct sxerr e;
	char port[8];
	int l, fd, c, fl;

	if ((l = bound(af, 1, port, sizeof(port))) == -1)
		skip();
	assert_int_equal(relay_connect(host, port, 2000, &fd, &e), 0);
	assert_true((c = accept(l, NULL, NULL)) != -1);
	assert_int_equal(write(fd, "x", 1), 1);
	fl = fcntl(fd, F_GETFL);
	assert_int_equal(fl & O_NONBLOCK, 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	(void)close(c);
	(void)close(fd);
	(void)close(l);
}

static void
t_connect_v4(void **state)
{
	connect_ok(AF_INET, "127.0.0.1");
}

static void
t_connect_v6(void **state)
{
	connect_ok(AF_INET6, "::1");
}

/* Bound but not listening: the kernel answers with a reset. */
static void
t_connect_refused(void **state)
{
	struct sxerr e;
	char port[8], want[32];
	int b, fd = -1;

	assert_true((b = bound(AF_INET, 0, port, sizeof(port))) != -1);
	assert_int_equal(relay_connect("127.0.0.1", port, 2000, &fd, &e), -1);
	assert_int_equal(fd, -1);
	assert_int_equal(e.ex, EX_UNAVAILABLE);
	snprintf(want, sizeof(want), "127.0.0.1:%s", port);
	assert_non_null(strstr(e.msg, want));
	assert_non_null(strstr(e.msg, "refused"));
	(void)close(b);
	if ((b = bound(AF_INET6, 0, port, sizeof(port))) == -1)
		return;
	assert_int_equal(relay_connect("::1", port, 2000, &fd, &e), -1);
	snprintf(want, sizeof(want), "[::1]:%s", port);
	assert_non_null(strstr(e.msg, want));
	(void)close(b);
}

static void
t_connect_unresolved(void **state)
{
	struct sxerr e;
	int fd = -1;

	assert_int_equal(relay_connect("no-such-host.invalid", "22", 2000,
	    &fd, &e), -1);
	assert_int_equal(e.ex, EX_UNAVAILABLE);
	assert_non_null(strstr(e.msg, "no-such-host.invalid:22"));
}

static long long
ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A listener that never accepts, its queue filled: the kernel drops
 * further SYNs, so a connect hangs, and only our bound ends it.
 */
static void
t_connect_timeout(void **state)
{
	struct pollfd p;
	struct sockaddr_in sin;
	struct sxerr e;
	char port[8];
	int l, fill[16], nfill = 0, fd = -1, hung = 0;
	long long t0, dt;

	assert_true((l = bound(AF_INET, 1, port, sizeof(port))) != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(atoi(port));
	while (nfill < 16 && !hung) {
		fill[nfill] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(fill[nfill] != -1);
		if (connect(fill[nfill], (struct sockaddr *)&sin,
		    sizeof(sin)) == -1 && errno == EINPROGRESS) {
			p.fd = fill[nfill];
			p.events = POLLOUT;
			hung = poll(&p, 1, 200) == 0;
		}
		nfill++;
	}
	if (!hung) {
		while (nfill > 0)
			(void)close(fill[--nfill]);
		(void)close(l);
		skip();
	}
	t0 = ms();
	assert_int_equal(relay_connect("127.0.0.1", port, 300, &fd, &e), -1);
	dt = ms() - t0;
	assert_int_equal(e.ex, EX_UNAVAILABLE);
	assert_non_null(strstr(e.msg, "timed out"));
	/* Bounded: far below the kernel's own minutes of SYN retries. */
	assert_true(dt >= 250);
	assert_true(dt < 10000);
	while (nfill > 0)
		(void)close(fill[--nfill]);
	(void)close(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_pipes_tcp),
		cmocka_unit_test(t_sockets_tcp),
		cmocka_unit_test(t_same_socket),
		cmocka_unit_test(t_copy_fallback),
		cmocka_unit_test(t_halfclose_in),
		cmocka_unit_test(t_halfclose_sock),
		cmocka_unit_test(t_peer_gone),
		cmocka_unit_test(t_nodelay),
		cmocka_unit_test(t_sendfd),
		cmocka_unit_test(t_sendfd_not_socket),
		cmocka_unit_test(t_connect_v4),
		cmocka_unit_test(t_connect_v6),
		cmocka_unit_test(t_connect_refused),
		cmocka_unit_test(t_connect_unresolved),
		cmocka_unit_test(t_connect_timeout),
	};

	/* A hung relay must fail the run, not stall it. */
	alarm(120);
	(void)signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
