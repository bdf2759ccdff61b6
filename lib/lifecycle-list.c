/* SPDX-License-Identifier: AGPL-3.0-only */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host.h"
#include "lifecycle.h"
#include "lifecycle-priv.h"
#include "sshbin.h"
#include "spawn.h"
#include "text.h"

/* ssh-tunnel-ls's rows. */

/*
 * The columns of t into r, loaded: the port of its first R forward (else
 * of its first), the bastion r->st says is in use, else its first.
 */
void
lc_row_set(struct lc_row *r, const struct tunnel *t)
{
	const struct forward *f;
	char b[sizeof(r->bastion)];
	size_t i;

	r->loaded = 1;
	if ((f = tunnel_first_remote(t)) != NULL)
		r->port = f->port;
	else
		r->port = t->nfwd > 0 ? t->fwd[0].port : 0;
	r->bi = 0;
	for (i = 0; i < t->nbastion; i++)
		if (host_fmt_bastion(&t->bastion[i], b, sizeof(b)) == 0 &&
		    strcmp(b, r->st.bastion) == 0) {
			strlcpy(r->bastion, b, sizeof(r->bastion));
			r->bi = i;
			return;
		}
	if (host_fmt_bastion(&t->bastion[0], r->bastion,
	    sizeof(r->bastion)) == -1)
		r->bastion[0] = '\0';
}

int
lc_row_port(const struct lc_row *r)
{
	return r->loaded ? r->port : 0;
}

/* The bastion in use, else the first of the definition; its index. */
size_t
lc_row_bastion(const struct lc_row *r, char *buf, size_t sz)
{
	buf[0] = '\0';
	if (!r->loaded)
		return 0;
	strlcpy(buf, r->bastion, sz);
	return r->bi;
}

long long
lc_row_uptime(const struct lc_row *r)
{
	time_t now = time(NULL);

	if (strcmp(r->st.state, "up") != 0 || r->st.up_since == 0 ||
	    r->st.up_since > now)
		return 0;
	return (long long)(now - r->st.up_since);
}

static int
has_port(const struct tunnel *t, int port)
{
	size_t i;

	for (i = 0; i < t->nfwd; i++)
		if (t->fwd[i].port == port)
			return 1;
	return 0;
}

static int
wanted(const char *name, char *const names[], size_t n, char *seen)
{
	size_t i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0) {
			seen[i] = 1;
			return 1;
		}
	return 0;
}

/* What lc_list works with, row by row. */
struct listing {
	const struct lc_ctx	*c;
	const struct config	*cf;
	const struct lc_sel	*sel;
	struct lc_rows		*rows;
	char			*seen;
	struct tunnel		*t;	/* each definition read into */
	struct tunnel		*defs;	/* sel->defs: one a row */
};

/*
 * A row for ref if it is wanted, with its state, into rows->v (room for
 * all). A definition that does not load is said and makes the listing
 * bad; a unit of another tool that does not read shows as its state says.
 */
static void
add_row(struct listing *l, const struct tref *ref)
{
	struct lc_row *r = &l->rows->v[l->rows->n];
	struct tunnel *t = l->defs != NULL ? &l->defs[l->rows->n] : l->t;
	const struct lc_sel *sel = l->sel;
	struct sxerr le;
	int loaded = 0;

	if (!wanted(ref->name, sel->names, sel->nnames, l->seen))
		return;
	memset(r, 0, sizeof(*r));
	strlcpy(r->ref.name, ref->name, sizeof(r->ref.name));
	r->ref.b = ref->b;
	r->ref.pl = ref->pl;
	r->ref.port = ref->port;
	if (backend_load(l->cf, ref, t, &le) == 0)
		loaded = 1;
	else if (ref->b->defines) {
		lc_say(l->c, LC_ERR, "%s", le.msg);
		l->rows->bad = 1;
	}
	if (sel->port != 0 && (ref->port != 0 ? ref->port != sel->port :
	    !(loaded && has_port(t, sel->port))))
		return;
	backend_status(ref, &r->st);
	if (loaded) {
		lc_row_set(r, t);
		r->t = l->defs != NULL ? t : NULL;
	}
	l->rows->n++;
}

/*
 * Room for n rows and one more, and with sel->defs for n definitions
 * behind them, in one allocation: the caller frees rows->v alone.
 */
static int
rows_alloc(struct listing *l, size_t n, struct sxerr *e)
{
	size_t one = sizeof(struct lc_row) + (l->sel->defs ?
	    sizeof(struct tunnel) : 0);

	_Static_assert(_Alignof(struct tunnel) <= _Alignof(struct lc_row),
	    "the definitions follow the rows");
	if (n >= SIZE_MAX / one ||
	    (l->rows->v = calloc(1, (n + 1) * one)) == NULL)
		return sxerr_errno(e, EX_OSERR, "calloc");
	if (l->sel->defs)
		l->defs = (struct tunnel *)(l->rows->v + n + 1);
	return 0;
}

/*
 * The rows of ssh-tunnel-ls: every tunnel, or those named, or those with
 * a forward on port (0: any); scitex-ssh 1.0's units too. A definition
 * that does not load or a name unknown is said and sets rows->bad.
 */
int
lc_list(const struct lc_ctx *c, const struct config *cf,
    const struct lc_sel *sel, struct lc_rows *rows, struct sxerr *e)
{
	struct listing l = { c, cf, sel, rows, NULL, NULL, NULL };
	struct tref *refs;
	struct sxerr le;
	size_t nref, i;
	int rc;

	memset(rows, 0, sizeof(*rows));
	if ((rc = backend_list(cf, BL_DEFINED | BL_OTHERS, &refs, &nref,
	    &le)) == -1) {
		*e = le;
		return -1;
	}
	if (rc == 1)
		lc_say(c, LC_ERR, "%s", le.msg);
	if (rows_alloc(&l, nref, e) == -1 ||
	    (l.seen = calloc(sel->nnames + 1, 1)) == NULL ||
	    (l.t = malloc(sizeof(*l.t))) == NULL) {
		if (rows->v != NULL)
			sxerr_errno(e, EX_OSERR, "calloc");
		free(l.seen);
		free(rows->v);
		free(refs);
		rows->v = NULL;
		return -1;
	}
	for (i = 0; i < nref; i++)
		add_row(&l, &refs[i]);
	free(l.t);
	free(refs);
	for (i = 0; i < sel->nnames; i++)
		if (!l.seen[i]) {
			lc_say(c, LC_ERR, "%s: no such tunnel", sel->names[i]);
			rows->bad = 1;
		}
	free(l.seen);
	return 0;
}

/* The last line of ssh's stderr that is not debug chatter. */
static void
last_line(char *err, char *buf, size_t sz)
{
	char *l, *save = NULL;

	strlcpy(buf, "no banner", sz);
	for (l = strtok_r(err, "\r\n", &save); l != NULL;
	    l = strtok_r(NULL, "\r\n", &save))
		if (strncmp(l, "debug", 5) != 0 && *l != '\0')
			strlcpy(buf, l, sz);
}

/*
 * The probe's ssh -W through the bastion to the tunnel's first remote
 * port into *a (0, the caller frees it), or why there is none in buf (1).
 */
static int
probe_argv(const struct lc_row *r, struct sshargv **a, char *buf, size_t sz)
{
	const struct forward *f;
	struct sxerr e;
	char bast[512];
	size_t bi;

	if (!r->loaded || r->t == NULL ||
	    (f = tunnel_first_remote(r->t)) == NULL) {
		strlcpy(buf, "no R forward", sz);
		return 1;
	}
	if ((*a = malloc(sizeof(**a))) == NULL) {
		strlcpy(buf, "out of memory", sz);
		return 1;
	}
	bi = lc_row_bastion(r, bast, sizeof(bast));
	if (tunnel_probe_argv(r->t, bi, f, ssh_bin(), *a, &e) == -1) {
		strlcpy(buf, e.msg, sz);
		free(*a);
		return 1;
	}
	return 0;
}

/*
 * What the probe's ssh said: a banner (0, it in buf) or why not (1).
 * err is overwritten.
 */
static int
probe_answer(char *out, char *err, char *buf, size_t sz)
{
	if (strncmp(out, "SSH-2.0-", 8) == 0) {
		out[strcspn(out, "\r\n")] = '\0';
		strlcpy(buf, text_printable(out) ? out : "SSH-2.0-", sz);
		return 0;
	}
	last_line(err, buf, sz);
	if (!text_printable(buf))
		strlcpy(buf, "bad answer", sz);
	return 1;
}

/*
 * Through the bastion to the remote port: an SSH banner must come back.
 * 0 verified (the banner in buf), 1 not (why in buf), -1 out of memory.
 */
int
lc_row_probe(const struct lc_row *r, char *buf, size_t sz)
{
	struct sshargv *a;
	struct capture c;
	struct sxerr e;
	char *out;
	int rc;

	memset(&c, 0, sizeof(c));
	c.outsz = 4096;
	c.errsz = 16384;
	if ((out = malloc(c.outsz + c.errsz)) == NULL)
		return -1;
	c.out = out;
	c.err = out + c.outsz;
	c.until = LC_PROBE_UNTIL;
	c.timeout_ms = LC_PROBE_MS;
	if ((rc = probe_argv(r, &a, buf, sz)) == 0) {
		rc = spawn_capture(a->argv, &c, &e);
		free(a);
		if (rc == -1) {
			strlcpy(buf, e.msg, sz);
			rc = 1;
		} else
			rc = probe_answer(c.out, c.err, buf, sz);
	}
	free(out);
	return rc;
}

/*
 * The probe as a job, for a caller that waits in its own loop (the MCP
 * server): lc_probe_start starts it (0), or says in buf why it cannot
 * (1); the caller stops it once stdout holds LC_PROBE_UNTIL, then
 * lc_probe_end reads the answer as lc_row_probe's, and frees j.
 */
int
lc_probe_start(const struct lc_row *r, struct job *j, char *buf, size_t sz)
{
	struct sshargv *a;
	struct sxerr e;
	int rc;

	memset(j, 0, sizeof(*j));
	if (probe_argv(r, &a, buf, sz) == 1)
		return 1;
	rc = job_start(j, a->argv, LC_PROBE_MS, 16384, &e);
	free(a);
	if (rc == -1) {
		strlcpy(buf, e.msg, sz);
		return 1;
	}
	return 0;
}

int
lc_probe_end(struct job *j, char *buf, size_t sz)
{
	char none[1] = "";
	int rc;

	rc = probe_answer(j->out.buf != NULL ? j->out.buf : none,
	    j->err.buf != NULL ? j->err.buf : none, buf, sz);
	job_free(j);
	return rc;
}
