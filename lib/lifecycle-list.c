/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/stat.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "lifecycle.h"
#include "lifecycle-priv.h"
#include "pcache.h"
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

/*
 * What a row needs of a definition, as ssh-tunnel-ls keeps it in its
 * cache: "PORT\nBASTION\n..." (the port lc_row_set shows, every bastion
 * as shown), malloc'd into *out; -1 out of memory.
 */
int
lc_row_blob(const struct lc_row *r, const struct tunnel *t, char **out,
    size_t *len)
{
	char b[sizeof(r->bastion)], *buf;
	size_t i, n, room;

	room = 16 + t->nbastion * sizeof(b);
	if ((buf = malloc(room)) == NULL)
		return -1;
	n = (size_t)snprintf(buf, room, "%d\n", r->port);
	for (i = 0; i < t->nbastion; i++) {
		if (host_fmt_bastion(&t->bastion[i], b, sizeof(b)) == -1)
			b[0] = '\0';
		n += (size_t)snprintf(buf + n, room - n, "%s\n", b);
	}
	*out = buf;
	*len = n;
	return 0;
}

/*
 * The columns of r from a cached blob (lc_row_blob's), as lc_row_set would
 * set them from the definition: 0, or -1 when the blob is not one.
 */
int
lc_row_from_blob(struct lc_row *r, const char *blob, size_t len)
{
	const char *p = blob, *end = blob + len, *nl, *first = NULL;
	size_t i, n, firstn = 0;
	long port = 0;

	for (; p < end && *p >= '0' && *p <= '9' && port <= 65535; p++)
		port = port * 10 + (*p - '0');
	if (p == blob || p == end || *p++ != '\n' || port > 65535)
		return -1;
	for (i = 0; p < end; i++, p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
		    (n = (size_t)(nl - p)) >= sizeof(r->bastion) ||
		    memchr(p, '\0', n) != NULL)
			return -1;
		if (first == NULL) {
			first = p;
			firstn = n;
		}
		if (n > 0 && n == strlen(r->st.bastion) &&
		    memcmp(p, r->st.bastion, n) == 0) {
			first = p;
			firstn = n;
			break;
		}
	}
	if (first == NULL)
		return -1;
	memcpy(r->bastion, first, firstn);
	r->bastion[firstn] = '\0';
	r->bi = p < end ? i : 0;
	r->port = (int)port;
	r->loaded = 1;
	return 0;
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

/* What a row needs of its struct tref to be read, beside r->ref. */
struct pend {
	char		*path;		/* its definition's file */
	int		 in_config;
	unsigned	 line;
	int		 drop;		/* not on sel->port */
	int		 failed;	/* the definition did not load: */
	char		*why;		/* said after, in the rows' order */
	int		 set;		/* its defset; -1: none */
	struct stat	 st;		/* its definition's file, when set */
	const char	*blob;		/* lc_row_blob's, of st; NULL: none */
	size_t		 bloblen;
	int		 made;		/* blob is the row's own (malloc'd) */
};

/*
 * The rows' columns of a tunnels.d directory, cached: a definition that
 * has not changed since a listing read it is not read and parsed again,
 * a third of what a row cost (bench/fleet.md). Only when the rows need
 * no more of their definitions than the columns (no sel->defs, no
 * sel->port).
 */
#define LC_DEFSETS	4		/* tunnels.d directories at most */
#define LC_CACHE_KIND	"defs1"

struct defset {
	const char	*dir;		/* places' defs */
	int		 dfd;		/* it, O_PATH; -1: not open */
	struct pcset	 old;		/* as cached */
};

/* What lc_list works with: the rows named first, then read. */
struct listing {
	const struct lc_ctx	*c;
	const struct config	*cf;
	const struct lc_sel	*sel;
	struct lc_rows		*rows;
	size_t			 room;	/* rows of rows->v, pend, defs */
	char			*seen;
	struct pend		*pend;
	struct tunnel		*defs;	/* sel->defs: one a row, until
					   rows_join */
	size_t			 added;	/* pend's, each freed at the end */
	size_t			 next;	/* the next row a reader takes */
	pthread_mutex_t		 mu;
	struct held		 held;	/* /proc/locks, read once */
	const struct held	*hp;	/* &held, or NULL: not read */
	struct defset		 sets[LC_DEFSETS];
	size_t			 nsets;
};

/* The defset of ref's directory (made if new), or -1: not cached. */
static int
defset_of(struct listing *l, const struct tref *ref)
{
	size_t i;

	if (l->sel->defs || l->sel->port != 0 || ref->in_config ||
	    !ref->b->defines)
		return -1;
	for (i = 0; i < l->nsets; i++)
		if (strcmp(l->sets[i].dir, ref->pl->defs) == 0)
			return (int)i;
	if (l->nsets == LC_DEFSETS)
		return -1;
	l->sets[i].dir = ref->pl->defs;
	l->sets[i].dfd = -1;
	return (int)l->nsets++;
}

/* Each defset's directory opened and its cache read, before the rows. */
static void
defsets_open(struct listing *l)
{
	struct defset *d;
	size_t i;

	for (i = 0; i < l->nsets; i++) {
		d = &l->sets[i];
		d->dfd = open(d->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		(void)pcset_load(LC_CACHE_KIND, d->dir, &d->old);
	}
}

/*
 * Row i through the cache of its defset: its columns from there if its
 * definition is the file they were made from (1), else 0, its file's
 * stat(2) in p->st when there is one.
 */
static int
row_cached(struct listing *l, size_t i)
{
	struct lc_row *r = &l->rows->v[i];
	struct pend *p = &l->pend[i];
	const struct defset *d = &l->sets[p->set];
	const char *base, *blob;
	size_t len;

	/* st_nlink 0: no file of its own to cache it by. */
	if (d->dfd == -1 || (base = strrchr(p->path, '/')) == NULL ||
	    fstatat(d->dfd, base + 1, &p->st, 0) == -1 ||
	    !S_ISREG(p->st.st_mode)) {
		p->st.st_nlink = 0;
		return 0;
	}
	if ((blob = pcset_find(&d->old, r->ref.name, &p->st, &len)) == NULL ||
	    lc_row_from_blob(r, blob, len) == -1)
		return 0;
	p->blob = blob;
	p->bloblen = len;
	return 1;
}

/*
 * Each defset closed; with write, written anew if rows were read from
 * their definitions that can be cached, from every row of it: only after
 * a listing of all, so that a listing of some does not drop the others.
 */
static void
defsets_close(struct listing *l, int write)
{
	struct pcset made;
	struct defset *d;
	struct pend *p;
	size_t i, k;
	int put, rc;

	for (i = 0; i < l->nsets; i++) {
		d = &l->sets[i];
		memset(&made, 0, sizeof(made));
		put = write && l->sel->nnames == 0 ? 0 : -1;
		for (k = 0; put != -1 && k < l->rows->n; k++) {
			p = &l->pend[k];
			if (p->set != (int)i || p->blob == NULL)
				continue;
			if ((rc = pcset_add(&made, l->rows->v[k].ref.name,
			    &p->st, p->blob, p->bloblen)) == -1)
				put = -1;
			else if (rc == 0 && p->made)
				put = 1;
		}
		if (put == 1)
			pcset_put(LC_CACHE_KIND, d->dir, &made);
		pcset_free(&made);
		pcset_free(&d->old);
		if (d->dfd != -1)
			close(d->dfd);
	}
	l->nsets = 0;
}

/* Room for one more row, its pend, with sel->defs its definition. */
static int
rows_grow(struct listing *l, struct sxerr *e)
{
	size_t n = l->room == 0 ? 64 : l->room * 2;
	struct lc_row *v;
	struct pend *p;
	struct tunnel *t;

	if (l->rows->n < l->room)
		return 0;
	if ((v = reallocarray(l->rows->v, n, sizeof(*v))) == NULL)
		return sxerr_errno(e, EX_OSERR, "rows");
	l->rows->v = v;
	if ((p = reallocarray(l->pend, n, sizeof(*p))) == NULL)
		return sxerr_errno(e, EX_OSERR, "rows");
	l->pend = p;
	if (l->sel->defs) {
		if ((t = reallocarray(l->defs, n, sizeof(*t))) == NULL)
			return sxerr_errno(e, EX_OSERR, "rows");
		l->defs = t;
	}
	l->room = n;
	return 0;
}

/*
 * With sel->defs, the definitions behind the rows in one allocation,
 * which the caller frees as rows->v alone.
 */
static int
rows_join(struct listing *l, struct sxerr *e)
{
	struct lc_rows *rows = l->rows;
	struct lc_row *v;
	struct tunnel *t;
	size_t i;

	_Static_assert(_Alignof(struct tunnel) <= _Alignof(struct lc_row),
	    "the definitions follow the rows");
	if (!l->sel->defs || rows->n == 0)
		return 0;
	if ((v = realloc(rows->v, rows->n * (sizeof(*v) + sizeof(*t)))) ==
	    NULL)
		return sxerr_errno(e, EX_OSERR, "rows");
	rows->v = v;
	t = (struct tunnel *)(v + rows->n);
	memcpy(t, l->defs, rows->n * sizeof(*t));
	for (i = 0; i < rows->n; i++)
		v[i].t = v[i].loaded ? &t[i] : NULL;
	return 0;
}

/*
 * A row for ref if it is wanted, named only: read later, by readers
 * side by side. A unit of another tool that could not be listed is said
 * at once, before the rows, as it always was.
 */
static int
add_row(void *arg, const struct tref *ref, struct sxerr *e)
{
	struct listing *l = arg;
	struct lc_row *r;
	struct pend *p;

	if (ref == NULL) {
		lc_say(l->c, LC_ERR, "%s", e->msg);
		return 0;
	}
	if (!wanted(ref->name, l->sel->names, l->sel->nnames, l->seen))
		return 0;
	if (rows_grow(l, e) == -1)
		return -1;
	r = &l->rows->v[l->rows->n];
	p = &l->pend[l->rows->n];
	memset(r, 0, sizeof(*r));
	memset(p, 0, sizeof(*p));
	if ((p->path = strdup(ref->path)) == NULL)
		return sxerr_errno(e, EX_OSERR, "rows");
	strlcpy(r->ref.name, ref->name, sizeof(r->ref.name));
	r->ref.b = ref->b;
	r->ref.pl = ref->pl;
	r->ref.port = ref->port;
	p->in_config = ref->in_config;
	p->line = ref->line;
	p->set = defset_of(l, ref);
	l->added = l->rows->n + 1;
	lc_say(l->c, LC_DEBUG, "%s: backend %s, %s%s", ref->name, ref->b->name,
	    ref->in_config ? "in " : "", ref->in_config ? "the config file's "
	    "tunnels:" : ref->path);
	l->rows->n++;
	return 0;
}

/*
 * Row i read: its definition into t (with sel->defs its own), its state.
 * A definition that does not load is kept to be said; a unit of another
 * tool that does not read shows as its state says.
 */
static void
read_row(struct listing *l, size_t i, struct tunnel *t, struct tref *ref)
{
	const struct lc_sel *sel = l->sel;
	struct lc_row *r = &l->rows->v[i];
	struct pend *p = &l->pend[i];
	struct sxerr le;
	char *blob;

	if (sel->defs)
		t = &l->defs[i];
	memset(ref, 0, sizeof(*ref));
	strlcpy(ref->name, r->ref.name, sizeof(ref->name));
	strlcpy(ref->path, p->path, sizeof(ref->path));
	ref->in_config = p->in_config;
	ref->line = p->line;
	ref->port = r->ref.port;
	ref->b = r->ref.b;
	ref->pl = r->ref.pl;
	if (p->set != -1) {
		/* Its state first: the cached columns need its bastion. */
		backend_status(ref, l->hp, &r->st);
		if (row_cached(l, i))
			return;
	}
	if (backend_load(l->cf, ref, t, &le) == 0)
		r->loaded = 1;
	else if (ref->b->defines) {
		p->failed = 1;
		p->why = strdup(le.msg);	/* NULL: said shorter */
	}
	if (sel->port != 0 && (ref->port != 0 ? ref->port != sel->port :
	    !(r->loaded && has_port(t, sel->port)))) {
		p->drop = 1;
		return;
	}
	if (p->set == -1)
		backend_status(ref, l->hp, &r->st);
	if (!r->loaded)
		return;
	lc_row_set(r, t);
	if (p->set != -1 && p->st.st_nlink != 0 &&
	    lc_row_blob(r, t, &blob, &p->bloblen) == 0) {
		p->blob = blob;
		p->made = 1;
	}
}

/* A reader: the next row not yet taken, until none is left. */
static void *
reader(void *arg)
{
	struct listing *l = arg;
	struct tunnel *t = NULL;
	struct tref *ref;
	size_t i;

	if ((ref = malloc(sizeof(*ref))) == NULL ||
	    (!l->sel->defs && (t = malloc(sizeof(*t))) == NULL)) {
		free(ref);
		return l;
	}
	for (;;) {
		pthread_mutex_lock(&l->mu);
		i = l->next++;
		pthread_mutex_unlock(&l->mu);
		if (i >= l->rows->n)
			break;
		read_row(l, i, t, ref);
	}
	free(t);
	free(ref);
	return NULL;
}

/*
 * Every row read, by as many readers as there are processors (at most
 * LC_READERS), the caller one of them: each row is a few files and a few
 * system calls, a thousand of them 60 ms for one reader on this 2-core
 * machine. A reader that cannot start leaves its rows to the others.
 */
#define LC_READERS	4
#define LC_ROWS_EACH	64	/* fewer rows a reader: not worth a thread */

static int
read_rows(struct listing *l, struct sxerr *e)
{
	pthread_t th[LC_READERS - 1];
	size_t n = 0, want, i;
	long cpus;
	int bad = 0;

	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	want = cpus < 1 ? 1 : cpus > LC_READERS ? LC_READERS : (size_t)cpus;
	if (want > l->rows->n / LC_ROWS_EACH)
		want = l->rows->n / LC_ROWS_EACH > 0 ?
		    l->rows->n / LC_ROWS_EACH : 1;
	for (; n + 1 < want; n++)
		if (pthread_create(&th[n], NULL, reader, l) != 0)
			break;
	if (reader(l) != NULL)
		bad = 1;
	for (i = 0; i < n; i++) {
		void *r;

		pthread_join(th[i], &r);
		if (r != NULL)
			bad = 1;
	}
	/* A reader without memory left its rows to the others; if none
	 * had any, some rows were not read. */
	if (bad && l->next <= l->rows->n)
		return sxerr_errno(e, EX_OSERR, "malloc");
	return 0;
}

/*
 * In the rows' order: what did not load said, the rows not on sel->port
 * left out.
 */
static void
rows_settle(struct listing *l)
{
	struct lc_rows *rows = l->rows;
	struct pend *p;
	size_t i, k;

	for (i = k = 0; i < rows->n; i++) {
		p = &l->pend[i];
		if (p->failed) {
			lc_say(l->c, LC_ERR, "%s", p->why != NULL ? p->why :
			    "a definition did not load");
			rows->bad = 1;
		}
		if (p->drop)
			continue;
		if (k != i) {
			rows->v[k] = rows->v[i];
			if (l->sel->defs)
				memcpy(&l->defs[k], &l->defs[i],
				    sizeof(*l->defs));
		}
		k++;
	}
	rows->n = k;
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
	struct listing l;
	struct sxerr le;
	size_t i;
	int rc;

	memset(&l, 0, sizeof(l));
	l.c = c;
	l.cf = cf;
	l.sel = sel;
	l.rows = rows;
	memset(rows, 0, sizeof(*rows));
	pthread_mutex_init(&l.mu, NULL);
	if (held_load("/proc/locks", &l.held) == 0)
		l.hp = &l.held;
	if ((l.seen = calloc(sel->nnames + 1, 1)) == NULL)
		rc = sxerr_errno(&le, EX_OSERR, "malloc");
	else if ((rc = rows_grow(&l, &le)) == 0 &&
	    (rc = backend_each(cf, BL_DEFINED | BL_OTHERS, add_row, &l,
	    &le)) != -1) {
		defsets_open(&l);
		if ((rc = read_rows(&l, &le)) != -1) {
			defsets_close(&l, 1);	/* before the rows move */
			rows_settle(&l);
			rc = rows_join(&l, &le);
		}
	}
	defsets_close(&l, 0);
	for (i = 0; i < l.added; i++) {
		free(l.pend[i].path);
		free(l.pend[i].why);
		if (l.pend[i].made)
			free((char *)l.pend[i].blob);
	}
	free(l.pend);
	free(l.defs);
	held_free(&l.held);
	pthread_mutex_destroy(&l.mu);
	if (rc == -1) {
		free(l.seen);
		free(rows->v);
		memset(rows, 0, sizeof(*rows));
		*e = le;
		return -1;
	}
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
