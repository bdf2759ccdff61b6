/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "now.h"
#include "relay.h"

/*
 * One splice asks for this much; the pipe it goes through bounds it.
 * Private pipes are grown to it so that a chunk is one system call.
 */
#define SPLICE_LEN	(1024 * 1024)
#define SRC_PIPE_LEN	(256 * 1024)	/* a pipe we splice from: see dir_init */
#define COPY_LEN	(64 * 1024)	/* read/write fallback buffer */

enum how {
	H_DIRECT,	/* src or dst is a pipe: splice src -> dst */
	H_STAGED,	/* neither is: splice through a private pipe */
	H_COPY		/* splice does not apply (EINVAL): read/write */
};

/* One direction of the relay. */
struct dir {
	const char	*name;		/* "stdin -> connection", for messages */
	int		 src, dst;
	enum how	 how;
	int		 pr, pw;	/* the private pipe, -1 when none */
	size_t		 staged;	/* bytes waiting in the private pipe */
	char		*buf;		/* H_COPY only, allocated on first use */
	size_t		 off, len;	/* unsent bytes in buf */
	short		 want;		/* POLLIN on src, or POLLOUT on dst */
	int		 done;
};

static int
is_pipe(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

static int
is_socket(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Can dst take bytes right now? Tells which end an EAGAIN was about. */
static int
writable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	return poll(&p, 1, 0) == 1;
}

/*
 * Tell dst's reader that no more bytes come: a socket is shut down for
 * writing (its read half stays usable); anything else is replaced by
 * /dev/null, which drops our reference to the pipe (ssh sees EOF) while
 * the descriptor number stays valid for the caller.
 */
static void
close_write(int fd)
{
	int null;

	if (is_socket(fd)) {
		(void)shutdown(fd, SHUT_WR);
		return;
	}
	if ((null = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1) {
		(void)close(fd);
		return;
	}
	(void)dup2(null, fd);
	(void)close(null);
}

/* The source reached its end (or the peer went away): finish dst. */
static void
dir_end(struct dir *d)
{
	d->done = 1;
	close_write(d->dst);
}

/* Errors a vanished peer causes: a normal end of the relay, not a failure. */
static int
peer_gone(int error)
{
	return error == EPIPE || error == ECONNRESET;
}

/* A failed call: the network's fault is EX_UNAVAILABLE, anything else ours. */
static int
dir_fail(const struct dir *d, const char *call, struct sxerr *e)
{
	int ex = EX_OSERR;

	switch (errno) {
	case ETIMEDOUT:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENETDOWN:
		ex = EX_UNAVAILABLE;
		break;
	}
	return sxerr_errno(e, ex, "%s: %s", d->name, call);
}

/*
 * Judge what a read, write or splice for d returned (n, errno): 1 when
 * bytes moved; 0 when this step is over (the source ended or a peer went,
 * the call would block: d->want says on what, wait 0 meaning "find out";
 * interrupted; or splice refused, EINVAL, and d falls back to copying);
 * -1 on a real error.
 */
static int
outcome(struct dir *d, ssize_t n, short wait, const char *call,
    struct sxerr *e)
{
	if (n > 0)
		return 1;
	if (n == 0 || peer_gone(errno)) {
		dir_end(d);
		return 0;
	}
	switch (errno) {
	case EAGAIN:
		if (wait == 0)
			wait = writable(d->dst) ? POLLIN : POLLOUT;
		d->want = wait;
		return 0;
	case EINTR:
		return 0;
	case EINVAL:
		if (d->how == H_COPY)
			break;
		d->how = H_COPY;	/* drains the private pipe first */
		return 0;
	}
	return dir_fail(d, call, e);
}

/* Move what is ready in one direction: 0, or -1 on a real error. */
static int
dir_direct(struct dir *d, struct sxerr *e)
{
	ssize_t n;
	int r;

	n = splice(d->src, NULL, d->dst, NULL, SPLICE_LEN,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if ((r = outcome(d, n, 0, "splice", e)) == 1)
		d->want = POLLIN;
	return r == -1 ? -1 : 0;
}

static int
dir_staged(struct dir *d, struct sxerr *e)
{
	ssize_t n;
	int r;

	if (d->staged == 0) {
		n = splice(d->src, NULL, d->pw, NULL, SPLICE_LEN,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if ((r = outcome(d, n, POLLIN, "splice", e)) != 1)
			return r;
		d->staged = n;
	}
	n = splice(d->pr, NULL, d->dst, NULL, d->staged,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if ((r = outcome(d, n, POLLOUT, "splice", e)) != 1)
		return r;
	d->staged -= n;
	d->want = d->staged > 0 ? POLLOUT : POLLIN;
	return 0;
}

static int
dir_copy(struct dir *d, struct sxerr *e)
{
	ssize_t n;
	size_t want = COPY_LEN;
	int from = d->src, r;

	if (d->buf == NULL && (d->buf = malloc(COPY_LEN)) == NULL)
		return sxerr_errno(e, EX_OSERR, "%s: malloc", d->name);
	if (d->len == 0) {
		/* Bytes already staged in the private pipe go first. */
		if (d->staged > 0) {
			from = d->pr;
			if (d->staged < want)
				want = d->staged;
		}
		n = read(from, d->buf, want);
		if ((r = outcome(d, n, POLLIN, "read", e)) != 1)
			return r;
		if (from == d->pr)
			d->staged -= n;
		d->off = 0;
		d->len = n;
	}
	n = write(d->dst, d->buf + d->off, d->len);
	if ((r = outcome(d, n, POLLOUT, "write", e)) != 1)
		return r;
	d->off += n;
	d->len -= n;
	d->want = d->len > 0 ? POLLOUT : POLLIN;
	return 0;
}

static int
dir_step(struct dir *d, struct sxerr *e)
{
	switch (d->how) {
	case H_DIRECT:
		return dir_direct(d, e);
	case H_STAGED:
		return dir_staged(d, e);
	case H_COPY:
		return dir_copy(d, e);
	}
	return 0;
}

/* The fd a direction waits on; staged bytes in H_COPY are ready now. */
static int
dir_fd(const struct dir *d)
{
	if (d->want == POLLOUT)
		return d->dst;
	if (d->how == H_COPY && d->staged > 0)
		return d->pr;
	return d->src;
}

/* Grow a pipe to size, never shrink it; a refusal costs speed only. */
static void
grow_pipe(int fd, int size)
{
	int now;

	if ((now = fcntl(fd, F_GETPIPE_SZ)) != -1 && now < size)
		(void)fcntl(fd, F_SETPIPE_SZ, size);
}

static int
dir_init(struct dir *d, const char *name, int src, int dst, struct sxerr *e)
{
	int p[2];

	memset(d, 0, sizeof(*d));
	d->name = name;
	d->src = src;
	d->dst = dst;
	d->pr = d->pw = -1;
	d->want = POLLIN;
	if (is_pipe(src) || is_pipe(dst)) {
		/*
		 * ssh's pipes to a ProxyCommand hold 64 KiB. Grown (harmless
		 * to ssh), fewer wakeups move more per call. Measured on
		 * loopback (bench/relay.sh): into stdout, 1 MiB is best
		 * (0.08 CPU s/GiB against 0.3); from stdin, 256 KiB, as
		 * larger splices into TCP stall on the send buffer.
		 */
		if (is_pipe(src))
			grow_pipe(src, SRC_PIPE_LEN);
		if (is_pipe(dst))
			grow_pipe(dst, SPLICE_LEN);
		d->how = H_DIRECT;
		return 0;
	}
	d->how = H_STAGED;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
		return sxerr_errno(e, EX_OSERR, "pipe");
	grow_pipe(p[1], SPLICE_LEN);	/* a chunk per call */
	d->pr = p[0];
	d->pw = p[1];
	return 0;
}

static void
dir_free(struct dir *d)
{
	if (d->pr != -1)
		(void)close(d->pr);
	if (d->pw != -1)
		(void)close(d->pw);
	free(d->buf);
}

/*
 * Make fd non-blocking for the relay; returns its old flags (-1: left
 * alone). A terminal is left alone: its O_NONBLOCK would be shared with
 * the shell that owns it.
 */
static int
set_nonblock(int fd)
{
	int fl;

	if (isatty(fd) || (fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	if ((fl & O_NONBLOCK) == 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return fl;
}

static void
restore_flags(int fd, int fl)
{
	if (fl != -1)
		(void)fcntl(fd, F_SETFL, fl);
}

/*
 * Copy in -> sock and sock -> out until both directions have ended.
 * EOF on in shuts sock down for writing; EOF on sock ends out (shut down
 * when it is a socket, else replaced by /dev/null so its reader sees EOF).
 * A peer that goes away (EPIPE, ECONNRESET) ends its direction normally;
 * the caller ignores SIGPIPE. Returns 0, or -1 on an I/O or system error.
 */
int
relay_pump(int sock, int in, int out, struct sxerr *e)
{
	struct dir up, down, *d[2] = { &up, &down };
	struct pollfd pfd[2];
	int flin, flout, flsock, on = 1, i, rc = -1;

	if (dir_init(&up, "stdin -> connection", in, sock, e) == -1)
		return -1;
	if (dir_init(&down, "connection -> stdout", sock, out, e) == -1) {
		dir_free(&up);
		return -1;
	}
	/*
	 * As ssh does on its own socket for interactive sessions: no Nagle
	 * delay. Left on, a write-write-read exchange waits for the peer's
	 * delayed ACK (bench/relay.sh: 43 ms each through socat or nc, 0.2
	 * here). It costs some bulk loopback throughput, still several times
	 * what ssh's ciphers move.
	 */
	(void)setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	flsock = set_nonblock(sock);
	flin = set_nonblock(in);
	flout = in == out ? -1 : set_nonblock(out);

	while (!up.done || !down.done) {
		for (i = 0; i < 2; i++) {
			pfd[i].fd = d[i]->done ? -1 : dir_fd(d[i]);
			pfd[i].events = d[i]->want;
			pfd[i].revents = 0;
		}
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			sxerr_errno(e, EX_OSERR, "poll");
			goto out;
		}
		/* HUP and ERR also mean "try it": the call says what happened. */
		for (i = 0; i < 2; i++)
			if (pfd[i].revents != 0 && !d[i]->done &&
			    dir_step(d[i], e) == -1)
				goto out;
	}
	rc = 0;
 out:
	/* Reverse order: in and out may share one open file description. */
	restore_flags(out, flout);
	restore_flags(in, flin);
	restore_flags(sock, flsock);
	dir_free(&up);
	dir_free(&down);
	return rc;
}

/*
 * One non-blocking connect to ai, bounded by timeout_ms (<= 0: the
 * kernel's own limit). Returns the connected (blocking) socket, or -1
 * with errno set.
 */
static int
connect_one(const struct addrinfo *ai, int timeout_ms)
{
	struct pollfd p;
	long long end = now_ms() + timeout_ms;
	socklen_t len;
	int fd, fl, r, soerr, left;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		p.fd = fd;
		p.events = POLLOUT;
		for (;;) {
			left = -1;
			if (timeout_ms > 0 && (left = end - now_ms()) < 0)
				left = 0;
			if ((r = poll(&p, 1, left)) == 1)
				break;
			if (r == 0) {
				errno = ETIMEDOUT;
				goto fail;
			}
			if (errno != EINTR)
				goto fail;
		}
		len = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
			goto fail;
		if (soerr != 0) {
			errno = soerr;
			goto fail;
		}
	}
	/* Hand over a plain blocking socket, as ssh's own connect does. */
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
		goto fail;
	return fd;
 fail:
	r = errno;
	(void)close(fd);
	errno = r;
	return -1;
}

/*
 * Connect to host port (a number), trying every address the name resolves
 * to in the resolver's order; each attempt is bounded by timeout_ms (<= 0:
 * no bound of our own). The first that answers wins; *fdp gets a blocking,
 * close-on-exec socket. Nothing answered or the name does not resolve:
 * -1, EX_UNAVAILABLE, a message naming host:port and the last error.
 */
int
relay_connect(const char *host, const char *port, int timeout_ms, int *fdp,
    struct sxerr *e)
{
	struct addrinfo hints, *res, *ai;
	const char *lb = "", *rb = "";
	int r, fd = -1, last = ETIMEDOUT;

	if (strchr(host, ':') != NULL) {
		lb = "[";
		rb = "]";
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0)
		return sxerr_set(e, EX_UNAVAILABLE, "%s%s%s:%s: %s", lb, host,
		    rb, port, r == EAI_SYSTEM ? strerror(errno) :
		    gai_strerror(r));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = connect_one(ai, timeout_ms)) != -1)
			break;
		last = errno;
	}
	freeaddrinfo(res);
	if (fd == -1)
		return sxerr_set(e, EX_UNAVAILABLE, "connect to %s%s%s:%s: %s",
		    lb, host, rb, port, strerror(last));
	*fdp = fd;
	return 0;
}

/*
 * Pass fd over the unix socket unixsock as ssh's ProxyUseFdpass receives
 * it: one data byte carrying one SCM_RIGHTS descriptor. A unixsock that is
 * not a unix socket means ssh did not ask for a descriptor: EX_CONFIG.
 */
int
relay_sendfd(int unixsock, int fd, struct sxerr *e)
{
	struct pollfd p;
	int n;

	p.fd = unixsock;
	p.events = POLLOUT;
	while ((n = fdpass_send(unixsock, fd, 0)) == -1) {
		switch (errno) {
		case EAGAIN:
			(void)poll(&p, 1, -1);
			/* FALLTHROUGH */
		case EINTR:
			continue;
		case ENOTSOCK:
		case EOPNOTSUPP:
		case EINVAL:
			return sxerr_set(e, EX_CONFIG, "cannot pass the "
			    "connection: output is not a unix socket "
			    "(-P needs ProxyUseFdpass yes)");
		}
		return sxerr_errno(e, EX_OSERR, "sendmsg");
	}
	if (n != 1)
		return sxerr_set(e, EX_OSERR, "sendmsg: short write");
	return 0;
}
