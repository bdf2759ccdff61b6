/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "landlock.h"
#include "sftp.h"
#include "spawn.h"

/*
 * The data path of the sftp filter: client -> filter -> sftp-server and
 * back. Packets are parsed where they lie in a large input buffer; those
 * that pass (WRITE and DATA carry the bulk) are written out from there
 * without a copy, in runs; a rewritten or refused one cuts the run, and
 * nothing after it is parsed until what comes before is out.
 */
#define BUFSZ	(1024 * 1024 + SFTP_MAX_MSG + 4)
#define PIPESZ	(1024 * 1024)

struct side {
	int		 in, out;
	unsigned char	*b;
	size_t		 head;	/* [head, pos): passed, not yet written */
	size_t		 pos;	/* next packet to parse */
	size_t		 tail;	/* end of what was read */
	size_t		 cut;	/* bytes at pos replaced by gen */
	struct sftp_buf	 gen;	/* rewritten packets, local answers */
	size_t		 genoff;
	int		 eof;
};

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int
pending(const struct side *s)
{
	return s->pos > s->head || s->gen.len > s->genoff || s->cut > 0;
}

/* The next whole packet at pos: its length, 0 if not all here, -1 bad. */
static long
next(const struct side *s)
{
	uint32_t n;

	if (s->tail - s->pos < 4)
		return 0;
	n = be32(s->b + s->pos);
	if (n == 0 || n > SFTP_MAX_MSG)
		return -1;
	return s->tail - s->pos - 4 < n ? 0 : (long)n;
}

typedef int	 filter_fn(struct sftp *, const unsigned char *, size_t,
		    struct sftp_buf *, int *, struct sxerr *);

/*
 * Hand the whole packet at pos, if there is one, to the filter (from names
 * the sender): one that passes joins the run, any other is cut. 1: one was
 * handled, 0: none is whole yet, -1: an error.
 */
static int
step(struct sftp *f, struct side *s, filter_fn *fn, const char *from,
    struct sxerr *e)
{
	long n;
	int pass;

	if ((n = next(s)) == 0)
		return 0;
	if (n < 0)
		return sxerr_set(e, EX_DATAERR, "sftp: bad packet length from "
		    "the %s", from);
	if (fn(f, s->b + s->pos + 4, n, &s->gen, &pass, e) == -1)
		return -1;
	if (pass)
		s->pos += 4 + n;
	else
		s->cut = 4 + n;
	return 1;
}

/* Parse client requests as far as the filter and the output allow. */
static int
pump_c2s(struct sftp *f, struct side *s, struct sxerr *e)
{
	int r;

	while (s->gen.len == 0 && s->cut == 0 && !sftp_busy(f))
		if ((r = step(f, s, sftp_client, "client", e)) <= 0)
			return r;
	return 0;
}

/* Server answers, with the filter's own answers put in their places. */
static int
pump_s2c(struct sftp *f, struct side *s, struct sxerr *e)
{
	int r;

	for (;;) {
		if (s->gen.len == 0 && s->cut == 0)
			sftp_local(f, &s->gen);
		if (s->gen.len > 0 || s->cut > 0)
			return 0;
		if ((r = step(f, s, sftp_server, "server", e)) <= 0)
			return r;
	}
}

/* Write what is due, in order: the run, then gen. -1: the reader is gone. */
static int
flush(struct side *s)
{
	ssize_t n;

	while (s->pos > s->head) {
		n = write(s->out, s->b + s->head, s->pos - s->head);
		if (n == -1)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		s->head += n;
	}
	while (s->gen.len > s->genoff) {
		n = write(s->out, s->gen.p + s->genoff,
		    s->gen.len - s->genoff);
		if (n == -1)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		s->genoff += n;
	}
	s->gen.len = s->genoff = 0;
	s->pos += s->cut;
	s->head = s->pos;
	s->cut = 0;
	if (s->head == s->tail)
		s->head = s->pos = s->tail = 0;
	return 0;
}

/* Room to read into, moving a partial packet to the front if need be. */
static size_t
room(struct side *s)
{
	if (BUFSZ - s->tail < SFTP_MAX_MSG + 4 && s->head == s->pos &&
	    s->cut == 0 && s->head > 0) {
		memmove(s->b, s->b + s->head, s->tail - s->head);
		s->tail -= s->head;
		s->pos = s->head = 0;
	}
	return BUFSZ - s->tail;
}

static int
fill(struct side *s)
{
	ssize_t n;

	n = read(s->in, s->b + s->tail, BUFSZ - s->tail);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		s->eof = 1;
		return 0;
	}
	if (n == 0)
		s->eof = 1;
	s->tail += n;
	return 0;
}

static int
side_init(struct side *s, int in, int out)
{
	memset(s, 0, sizeof(*s));
	s->in = in;
	s->out = out;
	if ((s->b = malloc(BUFSZ)) == NULL)
		return -1;
	return sftp_buf_init(&s->gen, 0);
}

static void
side_free(struct side *s)
{
	free(s->b);
	sftp_buf_free(&s->gen);
}

static void
nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl != -1)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/*
 * Relay until the server has closed its output and all of it reached the
 * client, or the client is gone. 0, or -1 on a protocol error.
 */
static int
relay(struct sftp *f, struct side *c, struct side *s, struct sxerr *e)
{
	struct pollfd p[4];
	int i;

	for (;;) {
		if ((c->out != -1 && pump_c2s(f, c, e) == -1) ||
		    pump_s2c(f, s, e) == -1)
			return -1;
		if (c->out != -1 && flush(c) == -1) {
			/* the server stopped reading: it is going away */
			close(c->out);
			c->out = -1;
		}
		if (flush(s) == -1)
			return 0;	/* the client is gone */
		if (c->eof && !pending(c) && c->out != -1) {
			/* a partial request at the end is dropped */
			close(c->out);
			c->out = -1;
		}
		if (s->eof && !pending(s) && next(s) == 0)
			return 0;
		for (i = 0; i < 4; i++)
			p[i].fd = -1, p[i].events = 0, p[i].revents = 0;
		if (!c->eof && c->out != -1 && !sftp_busy(f) && room(c) > 0)
			p[0].fd = c->in, p[0].events = POLLIN;
		if (c->out != -1 && pending(c))
			p[1].fd = c->out, p[1].events = POLLOUT;
		if (!s->eof && room(s) > 0)
			p[2].fd = s->in, p[2].events = POLLIN;
		if (pending(s))
			p[3].fd = s->out, p[3].events = POLLOUT;
		if (c->out == -1 && !pending(s) && s->eof)
			return 0;
		if (poll(p, 4, -1) == -1) {
			if (errno == EINTR)
				continue;
			return sxerr_errno(e, EX_OSERR, "poll");
		}
		if (p[0].revents != 0)
			fill(c);
		if (p[2].revents != 0)
			fill(s);
	}
}

/* The guard itself needs no more than to look at the roots. */
static int
confine_self(const struct guard *g, struct sxerr *e)
{
	struct ll_rule r[GUARD_ROOTS_MAX + 1];
	size_t i;

	if (landlock_abi() < 1)
		return 0;
	for (i = 0; i < g->nroot; i++) {
		r[i].path = g->root[i].path;
		r[i].access = LL_RO;
		r[i].optional = 0;
	}
#ifdef __SANITIZE_ADDRESS__
	/*
	 * LeakSanitizer reads /proc/self/maps when we exit; without it, it
	 * spins for ever. Only the sanitizer build (make SANITIZE=1) sees
	 * /proc; the shipped build, whose confinement the tests check, not.
	 */
	r[i].path = "/proc";
	r[i].access = LL_RO;
	r[i].optional = 0;
	i++;
#endif
	return landlock_confine(r, i, e);
}

/* See sftp.h. The caller ignores SIGPIPE. */
int
sftp_serve(const struct guard *g, const struct guard_cmd *cmd,
    char *const env[], sftp_log_fn *log, void *arg, struct sxerr *e)
{
	struct side c, s;
	struct piped srv;
	struct sftp f;
	int st, rc = -1;

	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	if (spawn_pipes(cmd->prog, (char *const *)cmd->argv, env, &srv,
	    e) == -1)
		return -1;
	c.out = srv.to;
	sftp_init(&f, g, log, arg);
	if (side_init(&c, 0, srv.to) == -1 ||
	    side_init(&s, srv.from, 1) == -1 || f.h == NULL) {
		sxerr_set(e, EX_OSERR, "sftp: out of memory");
		goto out;
	}
	/* Larger pipes: fewer trips through poll for the bulk. */
	fcntl(srv.to, F_SETPIPE_SZ, PIPESZ);
	fcntl(srv.from, F_SETPIPE_SZ, PIPESZ);
	if (confine_self(g, e) == -1)
		goto out;
	nonblock(0);
	nonblock(1);
	nonblock(srv.to);
	nonblock(srv.from);
	rc = relay(&f, &c, &s, e);
 out:
	if (c.out != -1)
		close(c.out);
	close(srv.from);
	side_free(&c);
	side_free(&s);
	sftp_free(&f);
	if (rc == -1) {
		spawn_stop(srv.pid, 1000);
		return -1;
	}
	while (waitpid(srv.pid, &st, 0) == -1)
		if (errno != EINTR)
			return sxerr_errno(e, EX_OSERR, "waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
