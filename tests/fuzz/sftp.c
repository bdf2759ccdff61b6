/* SPDX-License-Identifier: AGPL-3.0-only */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard.h"
#include "sftp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * The sftp filter between a hostile client and a well-behaved server.
 * Input: records of a selector byte, a 2-byte length and a packet body.
 * An even selector is a client request; when the filter forwards it with
 * nothing else in flight, a fake sftp-server answers at once as the real
 * one would (HANDLE for an open, numbered as sftp-server numbers them;
 * STATUS otherwise), and the filter must take that answer, unless bit 1
 * of the selector leaves the request open. An odd selector feeds the body
 * to the filter as an answer from a hostile server. No crash, no leak,
 * every packet the filter writes well framed, and the line never jams.
 */
static struct guard g;
static struct sftp f;
static struct sftp_buf srv, cli;
static unsigned char used[SFTP_HMAX + SFTP_QMAX];
static int tainted;	/* a hostile answer was taken: no more promises */

static void
init(void)
{
	static char dir[200];
	const char *tmp = getenv("TMPDIR");
	char p[256], q[256];
	struct sxerr e;

	/* make fuzz gives a TMPDIR of its own and removes it after. */
	snprintf(dir, sizeof(dir), "%s/scitex-fuzz-sftp-XXXXXX",
	    tmp != NULL && *tmp == '/' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(p, sizeof(p), "%s/ro", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/ro/f", dir);
	fclose(fopen(p, "w"));
	snprintf(p, sizeof(p), "%s/rw", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/rw/d", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/rw/esc", dir);
	if (symlink("/etc", p) == -1)
		abort();
	snprintf(p, sizeof(p), "%s/rw/d/up", dir);
	if (symlink("../..", p) == -1)
		abort();
	guard_init(&g);
	snprintf(q, sizeof(q), "%s/ro:ro", dir);
	if (guard_add_root(&g, q, &e) == -1)
		abort();
	snprintf(q, sizeof(q), "%s/rw:rw", dir);
	if (guard_add_root(&g, q, &e) == -1)
		abort();
	if (sftp_buf_init(&srv, 0) == -1 || sftp_buf_init(&cli, 0) == -1)
		abort();
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

/* Every packet in b: a length that fits, and at least a type. */
static void
framed(const struct sftp_buf *b)
{
	size_t o = 0, n;

	while (o < b->len) {
		if (b->len - o < 5)
			abort();
		n = be32(b->p + o);
		if (n == 0 || n > b->len - o - 4)
			abort();
		o += 4 + n;
	}
}

static void
restart(void)
{
	sftp_free(&f);
	sftp_init(&f, &g, NULL, NULL);
	memset(used, 0, sizeof(used));
	tainted = 0;
}

/* The fake sftp-server's answer to a forwarded request. */
static void
answer(const unsigned char *req, size_t n)
{
	unsigned char a[64];
	size_t an;
	struct sxerr e;
	uint32_t h;
	int pass;

	if (req[0] == 1) {		/* INIT -> VERSION */
		a[0] = 2;
		put32(a + 1, 3);
		an = 5;
	} else if (req[0] == 3 || req[0] == 11) {
		for (h = 0; h < sizeof(used) && used[h]; h++)
			;
		if (h == sizeof(used))
			abort();	/* the filter let too many open */
		used[h] = 1;
		a[0] = 102;
		memcpy(a + 1, req + 1, 4);
		put32(a + 5, 4);
		put32(a + 9, h);
		an = 13;
	} else {
		if (req[0] == 4) {	/* CLOSE of a handle the filter knows */
			if (n < 13 || be32(req + 5) != 4 ||
			    be32(req + 9) >= sizeof(used))
				abort();
			used[be32(req + 9)] = 0;
		}
		a[0] = 101;
		memcpy(a + 1, req + 1, 4);
		put32(a + 5, 0);
		put32(a + 9, 0);
		put32(a + 13, 0);
		an = 17;
	}
	cli.len = 0;
	if (sftp_server(&f, a, an, &cli, &pass, &e) == -1) {
		if (!tainted)
			abort();
		restart();
	}
	framed(&cli);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sxerr e;
	size_t n, inflight;
	int sel, pass;

	if (g.nroot == 0)
		init();
	restart();
	while (size >= 3) {
		sel = data[0];
		n = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (n > size)
			n = size;
		srv.len = cli.len = 0;
		inflight = f.qlen;
		if (sel & 1) {
			if (sftp_server(&f, data, n, &cli, &pass, &e) == -1)
				restart();
			else
				tainted = 1;
			framed(&cli);
		} else if (sftp_client(&f, data, n, &srv, &pass, &e) == -1) {
			if (e.ex != EX_DATAERR && e.ex != EX_SOFTWARE)
				abort();
			restart();
		} else {
			framed(&srv);
			while (sftp_local(&f, &cli) > 0) {
				framed(&cli);
				cli.len = 0;
			}
			if (inflight != 0 || (sel & 2))
				;	/* left open */
			else if (pass)
				answer(data, n);
			else if (srv.len > 0)
				answer(srv.p + 4, srv.len - 4);
			if (inflight == 0 && !(sel & 2) && f.qlen != 0)
				abort();	/* everything was answered */
		}
		data += n;
		size -= n;
	}
	return 0;
}
