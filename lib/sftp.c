/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* the OpenBSD prototypes, not NetBSD's incompatible strnvis() */
#define LIBBSD_OPENBSD_VIS
#include <vis.h>

#include "sftp.h"

/* draft-ietf-secsh-filexfer-02 (version 3) and OpenSSH's PROTOCOL */
#define FXP_INIT		1
#define FXP_VERSION		2
#define FXP_OPEN		3
#define FXP_CLOSE		4
#define FXP_READ		5
#define FXP_WRITE		6
#define FXP_LSTAT		7
#define FXP_FSTAT		8
#define FXP_SETSTAT		9
#define FXP_FSETSTAT		10
#define FXP_OPENDIR		11
#define FXP_READDIR		12
#define FXP_REMOVE		13
#define FXP_MKDIR		14
#define FXP_RMDIR		15
#define FXP_REALPATH		16
#define FXP_STAT		17
#define FXP_RENAME		18
#define FXP_READLINK		19
#define FXP_SYMLINK		20
#define FXP_STATUS		101
#define FXP_HANDLE		102
#define FXP_DATA		103
#define FXP_NAME		104
#define FXP_ATTRS		105
#define FXP_EXTENDED		200
#define FXP_EXTENDED_REPLY	201

#define FX_PERMISSION_DENIED	3
#define FX_FAILURE		4
#define FX_OP_UNSUPPORTED	8

#define FXF_READ	0x01
#define FXF_WRITE	0x02
#define FXF_APPEND	0x04
#define FXF_CREAT	0x08
#define FXF_TRUNC	0x10
#define FXF_EXCL	0x20

#define ATTR_SIZE	0x00000001U
#define ATTR_UIDGID	0x00000002U
#define ATTR_PERM	0x00000004U
#define ATTR_TIME	0x00000008U
#define ATTR_EXT	0x80000000U

#define HANDLES		(SFTP_HMAX + SFTP_QMAX)	/* see server_handle() */
#define TREE_MAX	100000	/* entries looked at for a directory move */
#define TREE_DEPTH	64

enum { W_INIT, W_OPEN, W_OPENDIR, W_OTHER, W_LOCAL };
enum { NEED_READ, NEED_WRITE, NEED_ENTRY };

/* The extensions a client is told of and may use. */
static const char *const exts[] = {
	"posix-rename@openssh.com", "statvfs@openssh.com",
	"fstatvfs@openssh.com", "hardlink@openssh.com", "fsync@openssh.com",
	"lsetstat@openssh.com", "limits@openssh.com",
	"expand-path@openssh.com", "copy-data",
};

#define malformed(e, what)	sxerr_set((e), EX_DATAERR, "sftp: %s", (what))

/* Reading a packet: every getter fails softly and sets bad. */
struct rd {
	const unsigned char	*p;
	size_t			 n;
	int			 bad;
};

static uint32_t
get_u32(struct rd *r)
{
	uint32_t v;

	if (r->n < 4) {
		r->bad = 1;
		r->n = 0;
		return 0;
	}
	v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->n -= 4;
	return v;
}

/* A packet of n bytes (n >= 1): its type; r reads what follows. */
static int
packet(struct rd *r, const unsigned char *p, size_t n)
{
	r->p = p + 1;
	r->n = n - 1;
	r->bad = 0;
	return p[0];
}

static void
skip(struct rd *r, size_t n)
{
	if (r->n < n) {
		r->bad = 1;
		r->n = 0;
		return;
	}
	r->p += n;
	r->n -= n;
}

static const unsigned char *
get_str(struct rd *r, uint32_t *len)
{
	const unsigned char *s;

	*len = get_u32(r);
	s = r->p;
	skip(r, *len);
	if (r->bad)
		*len = 0;
	return s;
}

/*
 * A string meant as a path: no NUL inside, shorter than PATH_MAX. A
 * failure here is the client's business, not the framing's.
 */
static int
get_path(struct rd *r, char *out)
{
	const unsigned char *s;
	uint32_t n;

	s = get_str(r, &n);
	out[0] = '\0';
	if (r->bad || n >= PATH_MAX || memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* A handle as sftp-server makes them: four bytes, a small number. */
static int
get_handle(struct rd *r, uint32_t *h)
{
	const unsigned char *s;
	uint32_t n;
	struct rd sub;

	s = get_str(r, &n);
	if (r->bad || n != 4)
		return -1;
	sub.p = s;
	sub.n = 4;
	sub.bad = 0;
	*h = get_u32(&sub);
	return 0;
}

/* Attributes: parsed whole first, then judged for a change of them. */
static const char *
get_attrs(struct rd *r)
{
	uint32_t fl, perm = 0, i, n, len;

	fl = get_u32(r);
	if (fl & ATTR_SIZE)
		skip(r, 8);
	if (fl & ATTR_UIDGID)
		skip(r, 8);
	if (fl & ATTR_PERM)
		perm = get_u32(r);
	if (fl & ATTR_TIME)
		skip(r, 8);
	if (fl & ATTR_EXT) {
		n = get_u32(r);
		for (i = 0; i < n && !r->bad; i++) {
			get_str(r, &len);
			get_str(r, &len);
		}
	}
	if (fl & ~(ATTR_SIZE | ATTR_UIDGID | ATTR_PERM | ATTR_TIME | ATTR_EXT))
		return "unknown attributes";
	if (fl & ATTR_UIDGID)
		return "changing the owner is not allowed";
	if ((fl & ATTR_PERM) && (perm & 07000))
		return "set-id and sticky bits are not allowed";
	return NULL;
}

/* Writing a packet into a buffer the caller made big enough. */
static size_t
put_begin(struct sftp_buf *b, int type, uint32_t id, int has_id)
{
	size_t at = b->len;

	b->len += 4;
	b->p[b->len++] = (unsigned char)type;
	if (has_id) {
		b->p[b->len++] = id >> 24;
		b->p[b->len++] = id >> 16;
		b->p[b->len++] = id >> 8;
		b->p[b->len++] = id;
	}
	return at;
}

static void
put_u32(struct sftp_buf *b, uint32_t v)
{
	b->p[b->len++] = v >> 24;
	b->p[b->len++] = v >> 16;
	b->p[b->len++] = v >> 8;
	b->p[b->len++] = v;
}

static void
put_raw(struct sftp_buf *b, const void *p, size_t n)
{
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
put_str(struct sftp_buf *b, const void *p, size_t n)
{
	put_u32(b, (uint32_t)n);
	put_raw(b, p, n);
}

static void
put_end(struct sftp_buf *b, size_t at)
{
	uint32_t n = (uint32_t)(b->len - at - 4);

	b->p[at] = n >> 24;
	b->p[at + 1] = n >> 16;
	b->p[at + 2] = n >> 8;
	b->p[at + 3] = n;
}

/* Room for the longest packet we write: a request grown by two paths. */
#define GEN_ROOM	(SFTP_MAX_MSG + 2 * PATH_MAX + 64)

int
sftp_buf_init(struct sftp_buf *b, size_t cap)
{
	b->len = 0;
	b->cap = cap < GEN_ROOM ? GEN_ROOM : cap;
	return (b->p = malloc(b->cap)) == NULL ? -1 : 0;
}

void
sftp_buf_free(struct sftp_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void
sftp_init(struct sftp *f, const struct guard *g, sftp_log_fn *log, void *arg)
{
	/* no memset: q[] is 32 KiB, and push() clears each entry it takes */
	f->g = g;
	f->log = log;
	f->logarg = arg;
	f->h = calloc(HANDLES, sizeof(*f->h));
	f->nh = f->h == NULL ? 0 : HANDLES;
	f->state = 0;
	f->nopen = f->qhead = f->qlen = 0;
}

void
sftp_free(struct sftp *f)
{
	size_t i;

	for (i = 0; i < f->nh; i++)
		free(f->h[i].path);
	for (i = 0; i < f->qlen; i++)
		free(f->q[(f->qhead + i) % SFTP_QMAX].path);
	free(f->h);
	f->h = NULL;
	f->nh = f->qlen = 0;
}

/* Room for one more request in flight? */
int
sftp_busy(const struct sftp *f)
{
	return f->qlen >= SFTP_QMAX;
}

static struct sftp_pend *
push(struct sftp *f, uint32_t id, int what)
{
	struct sftp_pend *p;

	p = &f->q[(f->qhead + f->qlen++) % SFTP_QMAX];
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->what = (unsigned char)what;
	return p;
}

static void
pop(struct sftp *f)
{
	struct sftp_pend *p = &f->q[f->qhead];

	if (p->path != NULL) {
		free(p->path);
		f->nopen--;
	}
	p->path = NULL;
	f->qhead = (f->qhead + 1) % SFTP_QMAX;
	f->qlen--;
}

/*
 * One request as the filter saw it, for the refusal's log line and for
 * its rewriting.
 */
struct req {
	int		 type;		/* FXP_* */
	uint32_t	 id;
	const char	*name;		/* for the log; an extension: its own */
	char		 path[PATH_MAX];
	char		 path2[PATH_MAX];
	char		 canon[PATH_MAX];
	char		 canon2[PATH_MAX];
};

/* Refuse: the answer waits in line with the server's; 0 (not fatal). */
static int
refuse(struct sftp *f, const struct req *q, uint32_t status, const char *why)
{
	struct sftp_pend *p;
	char v[4 * 60 + 1], line[512];

	p = push(f, q->id, W_LOCAL);
	p->status = status;
	p->msg = why;
	if (f->log != NULL) {
		strnvisx(v, sizeof(v), q->path, strnlen(q->path, 60),
		    VIS_SAFE | VIS_OCTAL);
		snprintf(line, sizeof(line), "sftp %s%s%s: %s", q->name,
		    q->path[0] != '\0' ? " " : "", v, why);
		f->log(f->logarg, line);
	}
	return 0;
}

/* Is the canonical path p fit for need? NULL yes, else why not. */
static const char *
allowed(const struct sftp *f, const char *p, int need, unsigned char *rw)
{
	const struct guard_root *r;

	if ((r = guard_holder(f->g, p)) == NULL)
		return "outside the copy roots";
	if (rw != NULL)
		*rw = (unsigned char)r->rw;
	if (need == NEED_READ)
		return NULL;
	if (!r->rw)
		return "in a read-only root";
	if (need == NEED_ENTRY && strcmp(p, r->path) == 0)
		return "a copy root itself";
	return NULL;
}

/*
 * The client's path p as sftp-server will see it, made canonical in out:
 * relative to the first root (the server's working directory), every
 * symbolic link followed (follow) or all but the one the last component
 * names. A last component of "", "." or ".." names no link, and the kernel
 * follows one before a trailing slash: those are resolved whole.
 */
static const char *
canon(const struct sftp *f, const char *p, int follow, char *out)
{
	char dir[PATH_MAX], d[PATH_MAX];
	const char *base = f->g->root[0].path, *last;
	struct sxerr e;
	size_t n, k;

	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	for (k = n; k > 0 && p[k - 1] != '/'; k--)
		;
	last = p + k;
	if (follow || n == k || p[n] == '/' || (n - k == 1 && last[0] == '.') ||
	    (n - k == 2 && last[0] == '.' && last[1] == '.')) {
		if (guard_resolve(base, p, out, &e) == -1)
			return "cannot be resolved";
		return NULL;
	}
	memcpy(dir, p, k);
	dir[k] = '\0';
	if (guard_resolve(base, dir, d, &e) == -1)
		return "cannot be resolved";
	if ((size_t)snprintf(out, PATH_MAX, "%s/%.*s", strcmp(d, "/") == 0 ?
	    "" : d, (int)(n - k), last) >= PATH_MAX)
		return "path too long";
	return NULL;
}

/* Read the client's path, make it canonical and judge it. */
static const char *
path_arg(struct sftp *f, struct rd *r, char *raw, char *out, int follow,
    int need)
{
	const char *why;

	if (get_path(r, raw) == -1)
		return "not a path";
	if ((why = canon(f, raw, follow, out)) != NULL)
		return why;
	return allowed(f, out, need, NULL);
}

/*
 * A symbolic link with target t placed in directory dir (canonical): its
 * target, resolved from there, must lie inside a root. out gets it
 * canonical.
 */
static const char *
link_target(const struct sftp *f, const char *dir, const char *t, char *out)
{
	struct sxerr e;

	if (t[0] == '\0')
		return "empty symbolic link target";
	if (guard_resolve(dir, t, out, &e) == -1)
		return "symbolic link target cannot be resolved";
	if (guard_holder(f->g, out) == NULL)
		return "symbolic link target outside the copy roots";
	return NULL;
}

static void
dir_of(const char *p, char *out)
{
	const char *s = strrchr(p, '/');

	if (s == NULL || s == p)
		strlcpy(out, "/", PATH_MAX);
	else {
		memcpy(out, p, s - p);
		out[s - p] = '\0';
	}
}

static int
has_dotdot(const char *t)
{
	const char *c;

	for (c = t; *c != '\0'; c += strcspn(c, "/"), c += *c == '/')
		if (c[0] == '.' && c[1] == '.' && (c[2] == '/' || c[2] == '\0'))
			return 1;
	return 0;
}

/*
 * Every symbolic link in a directory about to move must mean the same
 * after the move: an absolute target inside the roots, or a relative one
 * that never climbs ("..") and so stays beneath its own directory. Links
 * the guard makes are absolute; a relative one that climbs came from
 * elsewhere and blocks the move.
 */
static const char *
tree_ok(const struct sftp *f, char *p, size_t plen, int depth, size_t *seen)
{
	char t[PATH_MAX], c[PATH_MAX];
	const char *why = NULL;
	struct dirent *de;
	struct stat st;
	struct sxerr e;
	ssize_t n;
	DIR *d;

	if (depth > TREE_DEPTH)
		return "directory too deep to move";
	if ((d = opendir(p)) == NULL)
		return "directory cannot be checked";
	while (why == NULL && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (++*seen > TREE_MAX) {
			why = "directory too large to move";
			break;
		}
		if ((size_t)snprintf(p + plen, PATH_MAX - plen, "/%s",
		    de->d_name) >= PATH_MAX - plen) {
			why = "path too long";
			break;
		}
		if (lstat(p, &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode))
			why = tree_ok(f, p, strlen(p), depth + 1, seen);
		else if (S_ISLNK(st.st_mode)) {
			if ((n = readlink(p, t, sizeof(t) - 1)) == -1)
				why = "symbolic link cannot be read";
			else {
				t[n] = '\0';
				if (t[0] != '/' && has_dotdot(t))
					why = "holds a relative symbolic link "
					    "that climbs out";
				else if (t[0] == '/' && (guard_resolve("/", t,
				    c, &e) == -1 ||
				    guard_holder(f->g, c) == NULL))
					why = "holds a symbolic link out of "
					    "the copy roots";
			}
		}
		p[plen] = '\0';
	}
	closedir(d);
	return why;
}

/*
 * old (canonical, not followed) is to appear as new: by rename or as a
 * hard link. A symbolic link must still point inside the roots from its
 * new place; a directory must hold no link whose meaning would change.
 */
static const char *
move_ok(const struct sftp *f, const char *old, const char *new)
{
	char t[PATH_MAX], dir[PATH_MAX], c[PATH_MAX], p[PATH_MAX];
	struct stat st;
	size_t seen = 0;
	ssize_t n;

	if (lstat(old, &st) == -1)
		return NULL;		/* the server says why */
	if (S_ISLNK(st.st_mode)) {
		if ((n = readlink(old, t, sizeof(t) - 1)) == -1)
			return "symbolic link cannot be read";
		t[n] = '\0';
		dir_of(new, dir);
		return link_target(f, dir, t, c);
	}
	if (!S_ISDIR(st.st_mode))
		return NULL;
	strlcpy(p, old, sizeof(p));
	return tree_ok(f, p, strlen(p), 0, &seen);
}

static void
put_cstr(struct sftp_buf *b, const char *s)
{
	put_str(b, s, strlen(s));
}

/*
 * q rewritten: its type, id, the extension's name (when it is one), then
 * what the caller puts before sent() or an open's push_open().
 */
static size_t
rewrite(struct sftp_buf *b, const struct req *q)
{
	size_t at = put_begin(b, q->type, q->id, 1);

	if (q->type == FXP_EXTENDED)
		put_cstr(b, q->name);
	return at;
}

/* The rewritten request (begun by rewrite() at at) is whole: await it. */
static int
sent(struct sftp *f, const struct req *q, struct sftp_buf *b, size_t at)
{
	put_end(b, at);
	push(f, q->id, W_OTHER);
	return 0;
}

/* The request goes to the server as it came; its answer is awaited. */
static int
forward(struct sftp *f, const struct req *q, int *pass)
{
	push(f, q->id, W_OTHER);
	*pass = 1;
	return 0;
}

/*
 * An open (OPEN, OPENDIR) refused: for why, or, when why is NULL, as one
 * handle too many: a failure, the path itself is not denied.
 */
static int
refuse_open(struct sftp *f, const struct req *q, const char *why)
{
	if (why != NULL)
		return refuse(f, q, FX_PERMISSION_DENIED, why);
	return refuse(f, q, FX_FAILURE, "too many open handles");
}

/*
 * An open rewritten in b is whole: it waits with the path it opens until
 * the server's HANDLE says which handle that is, and counts as open from
 * now on. h is the handle it is to become (its path aside).
 */
static int
push_open(struct sftp *f, const struct req *q, struct sftp_buf *b, size_t at,
    const struct sftp_handle *h, struct sxerr *e)
{
	struct sftp_pend *p;

	put_end(b, at);
	p = push(f, q->id, h->dir ? W_OPENDIR : W_OPEN);
	if ((p->path = strdup(q->canon)) == NULL) {
		f->qlen--;
		return sxerr_errno(e, EX_OSERR, "sftp");
	}
	f->nopen++;
	p->write = h->write;
	p->rw = h->rw;
	return 0;
}

/* A request on a known handle: what it is, or NULL. */
static struct sftp_handle *
handle(struct sftp *f, struct rd *r)
{
	uint32_t h;

	if (get_handle(r, &h) == -1 || h >= f->nh || f->h[h].path == NULL)
		return NULL;
	return &f->h[h];
}

/*
 * A checked request of one or two paths, begun by rewrite() at at: the
 * canonical path p and, unless NULL, p2, and on it goes.
 */
static int
paths_sent(struct sftp *f, const struct req *q, struct sftp_buf *b,
    size_t at, const char *p, const char *p2)
{
	put_cstr(b, p);
	if (p2 != NULL)
		put_cstr(b, p2);
	return sent(f, q, b, at);
}

/* Two paths, both names inside :rw roots: rename, posix-rename, link. */
static int
two_paths(struct sftp *f, struct rd *r, struct req *q, struct sftp_buf *b,
    struct sxerr *e)
{
	const char *why, *why2;
	char raw2[PATH_MAX];

	why = path_arg(f, r, q->path, q->canon, 0, NEED_ENTRY);
	why2 = path_arg(f, r, raw2, q->canon2, 0, NEED_ENTRY);
	strlcpy(q->path2, raw2, sizeof(q->path2));
	if (r->bad || r->n != 0)
		return malformed(e, "bad request");
	if (why == NULL && why2 != NULL) {
		strlcpy(q->path, raw2, sizeof(q->path));
		why = why2;
	}
	if (why == NULL)
		why = move_ok(f, q->canon, q->canon2);
	if (why != NULL)
		return refuse(f, q, FX_PERMISSION_DENIED, why);
	return paths_sent(f, q, b, rewrite(b, q), q->canon, q->canon2);
}

/*
 * What a request of one path asks of it: its last symbolic link followed
 * or not, a root fit for need, and whether attributes come after it.
 */
struct path_rule {
	int	follow;
	int	need;		/* NEED_* */
	int	attrs;
};

static const struct path_rule
    rule_lstat = { 0, NEED_READ, 0 },		/* and readlink */
    rule_stat = { 1, NEED_READ, 0 },		/* realpath, statvfs */
    rule_setstat = { 1, NEED_WRITE, 1 },
    rule_lsetstat = { 0, NEED_WRITE, 1 },
    rule_mkdir = { 0, NEED_ENTRY, 1 },
    rule_remove = { 0, NEED_ENTRY, 0 };		/* and rmdir */

/*
 * One path and the rest of the request kept as it came (attributes):
 * stat, lstat, setstat, mkdir, and the extensions alike.
 */
static int
one_path(struct sftp *f, struct rd *r, struct req *q, struct sftp_buf *b,
    const struct path_rule *pr, struct sxerr *e)
{
	const unsigned char *rest;
	const char *why, *awhy = NULL;
	size_t at, nrest;

	why = path_arg(f, r, q->path, q->canon, pr->follow, pr->need);
	rest = r->p;
	if (pr->attrs)
		awhy = get_attrs(r);
	nrest = r->p - rest;
	if (r->bad || r->n != 0)
		return malformed(e, "bad request");
	if (why == NULL)
		why = awhy;
	if (why != NULL)
		return refuse(f, q, FX_PERMISSION_DENIED, why);
	at = rewrite(b, q);
	put_cstr(b, q->canon);
	put_raw(b, rest, nrest);
	return sent(f, q, b, at);
}

static int
do_open(struct sftp *f, struct rd *r, struct req *q, struct sftp_buf *b,
    struct sxerr *e)
{
	struct sftp_handle h = { NULL, 0, 0, 0 };
	const unsigned char *rest;
	const char *why, *awhy;
	uint32_t fl;
	size_t at, nrest;

	if (get_path(r, q->path) == -1)
		why = "not a path";
	else
		why = canon(f, q->path, 1, q->canon);
	rest = r->p;
	fl = get_u32(r);
	awhy = get_attrs(r);
	nrest = r->p - rest;
	if (r->bad || r->n != 0)
		return malformed(e, "bad request");
	h.write = (fl & ~FXF_READ) != 0;
	if (why == NULL)
		why = allowed(f, q->canon, h.write ? NEED_WRITE : NEED_READ,
		    &h.rw);
	if (why == NULL && (fl & ~(FXF_READ | FXF_WRITE | FXF_APPEND |
	    FXF_CREAT | FXF_TRUNC | FXF_EXCL)) != 0)
		why = "unknown open flags";
	if (why == NULL)
		why = awhy;
	if (why != NULL || f->nopen >= SFTP_HMAX)
		return refuse_open(f, q, why);
	at = rewrite(b, q);
	put_cstr(b, q->canon);
	put_raw(b, rest, nrest);
	return push_open(f, q, b, at, &h, e);
}

static int
do_opendir(struct sftp *f, struct rd *r, struct req *q, struct sftp_buf *b,
    struct sxerr *e)
{
	static const struct sftp_handle dir = { NULL, 1, 0, 0 };
	const char *why;
	size_t at;

	why = path_arg(f, r, q->path, q->canon, 1, NEED_READ);
	if (r->bad || r->n != 0)
		return malformed(e, "bad request");
	if (why != NULL || f->nopen >= SFTP_HMAX)
		return refuse_open(f, q, why);
	at = rewrite(b, q);
	put_cstr(b, q->canon);
	return push_open(f, q, b, at, &dir, e);
}

/* SSH_FXP_SYMLINK: target first, then the link (OpenSSH's order). */
static int
do_symlink(struct sftp *f, struct rd *r, struct req *q, struct sftp_buf *b,
    struct sxerr *e)
{
	char target[PATH_MAX], dir[PATH_MAX];
	const char *why, *lwhy;

	why = get_path(r, target) == -1 ? "not a symbolic link target" : NULL;
	lwhy = path_arg(f, r, q->path, q->canon, 0, NEED_ENTRY);
	if (why == NULL)
		why = lwhy;
	strlcpy(q->path2, target, sizeof(q->path2));
	if (r->bad || r->n != 0)
		return malformed(e, "bad request");
	if (why == NULL) {
		dir_of(q->canon, dir);
		why = link_target(f, dir, target, q->canon2);
	}
	if (why != NULL)
		return refuse(f, q, FX_PERMISSION_DENIED, why);
	/*
	 * The target as an absolute canonical path: it means the same
	 * wherever the link is moved later.
	 */
	return paths_sent(f, q, b, rewrite(b, q), q->canon2, q->canon);
}

/*
 * "~" and "~/..." name the first root, as sftp-server would make them its
 * working directory; "~user" is not told.
 */
static int
do_expand(struct sftp *f, struct rd *r, struct req *q, struct sftp_buf *b,
    struct sxerr *e)
{
	char p[PATH_MAX];
	const char *why = NULL;

	if (get_path(r, q->path) == -1)
		why = "not a path";
	if (r->bad || r->n != 0)
		return malformed(e, "bad request");
	if (why == NULL && q->path[0] == '~') {
		if (q->path[1] != '\0' && q->path[1] != '/')
			why = "other users' home directories are not told";
		else if ((size_t)snprintf(p, sizeof(p), "./%s", q->path + 1 +
		    (q->path[1] == '/')) >= sizeof(p))
			why = "path too long";
	} else
		strlcpy(p, q->path, sizeof(p));
	if (why == NULL)
		why = canon(f, p, 1, q->canon);
	if (why == NULL)
		why = allowed(f, q->canon, NEED_READ, NULL);
	if (why != NULL)
		return refuse(f, q, FX_PERMISSION_DENIED, why);
	return paths_sent(f, q, b, rewrite(b, q), q->canon, NULL);
}

/*
 * Requests on handles go through unchanged when the handle is one the
 * filter saw opened and fits the request: kind says what it must be,
 * attrs whether attributes follow it, trail how many bytes follow then.
 */
enum { H_ANY, H_FILE, H_DIR, H_WRITE, H_RWFILE };

struct handle_rule {
	int	kind;		/* H_* */
	int	attrs;
	size_t	trail;
};

static const struct handle_rule
    rule_read = { H_FILE, 0, 12 },		/* offset, length */
    rule_fstat = { H_FILE, 0, 0 },		/* and fstatvfs */
    rule_fsetstat = { H_RWFILE, 1, 0 },
    rule_readdir = { H_DIR, 0, 0 },
    rule_fsync = { H_WRITE, 0, 0 };

static int
on_handle(struct sftp *f, struct rd *r, struct req *q,
    const struct handle_rule *hr, int *pass, struct sxerr *e)
{
	struct sftp_handle *h;
	const char *why = NULL, *awhy = NULL;

	h = handle(f, r);
	if (hr->attrs)
		awhy = get_attrs(r);
	if (r->bad || r->n != hr->trail)
		return malformed(e, "bad request");
	if (h == NULL)
		return refuse(f, q, FX_FAILURE, "unknown handle");
	strlcpy(q->path, h->path, sizeof(q->path));
	switch (hr->kind) {
	case H_FILE:
		if (h->dir)
			why = "not a file handle";
		break;
	case H_DIR:
		if (!h->dir)
			why = "not a directory handle";
		break;
	case H_WRITE:
		if (h->dir || !h->write)
			why = "not open for writing";
		break;
	case H_RWFILE:
		if (h->dir || !h->rw)
			why = "in a read-only root";
		break;
	}
	if (why == NULL)
		why = awhy;
	if (why != NULL)
		return refuse(f, q, FX_PERMISSION_DENIED, why);
	return forward(f, q, pass);
}

static int
do_close(struct sftp *f, struct rd *r, struct req *q, int *pass,
    struct sxerr *e)
{
	struct sftp_handle *h;

	h = handle(f, r);
	if (r->bad || r->n != 0)
		return malformed(e, "bad request");
	if (h == NULL)
		return refuse(f, q, FX_FAILURE, "unknown handle");
	/*
	 * Forgotten now, not at the answer: the server may hand the same
	 * number to the next open, and a request sent in between must not
	 * be judged by the old file.
	 */
	free(h->path);
	h->path = NULL;
	f->nopen--;
	return forward(f, q, pass);
}

static int
do_write(struct sftp *f, struct rd *r, struct req *q, int *pass,
    struct sxerr *e)
{
	struct handle_rule hr = { H_WRITE, 0, 12 };
	struct rd h = *r;

	/* handle, offset, data: the data is never looked at */
	handle(f, &h);
	skip(&h, 8);
	hr.trail += get_u32(&h);
	if (h.bad)
		return malformed(e, "bad request");
	return on_handle(f, r, q, &hr, pass, e);
}

static int
do_copy_data(struct sftp *f, struct rd *r, struct req *q, int *pass,
    struct sxerr *e)
{
	struct sftp_handle *from, *to;

	from = handle(f, r);
	skip(r, 16);
	to = handle(f, r);
	skip(r, 8);
	if (r->bad || r->n != 0)
		return malformed(e, "bad request");
	if (from == NULL || to == NULL || from == to)
		return refuse(f, q, FX_FAILURE, "unknown handle");
	strlcpy(q->path, to->path, sizeof(q->path));
	if (from->dir || to->dir || !to->write)
		return refuse(f, q, FX_PERMISSION_DENIED,
		    "not open for writing");
	return forward(f, q, pass);
}

static int
do_extended(struct sftp *f, struct rd *r, struct req *q, struct sftp_buf *b,
    int *pass, struct sxerr *e)
{
	const unsigned char *s;
	char name[64];
	uint32_t n;

	s = get_str(r, &n);
	if (r->bad)
		return malformed(e, "bad request");
	if (n >= sizeof(name) || memchr(s, '\0', n) != NULL)
		strlcpy(name, "?", sizeof(name));
	else {
		memcpy(name, s, n);
		name[n] = '\0';
	}
	q->name = name;
	if (strcmp(name, "posix-rename@openssh.com") == 0)
		return two_paths(f, r, q, b, e);
	if (strcmp(name, "hardlink@openssh.com") == 0)
		return two_paths(f, r, q, b, e);
	if (strcmp(name, "statvfs@openssh.com") == 0)
		return one_path(f, r, q, b, &rule_stat, e);
	if (strcmp(name, "lsetstat@openssh.com") == 0)
		return one_path(f, r, q, b, &rule_lsetstat, e);
	if (strcmp(name, "expand-path@openssh.com") == 0)
		return do_expand(f, r, q, b, e);
	if (strcmp(name, "fstatvfs@openssh.com") == 0)
		return on_handle(f, r, q, &rule_fstat, pass, e);
	if (strcmp(name, "fsync@openssh.com") == 0)
		return on_handle(f, r, q, &rule_fsync, pass, e);
	if (strcmp(name, "copy-data") == 0)
		return do_copy_data(f, r, q, pass, e);
	if (strcmp(name, "limits@openssh.com") == 0) {
		if (r->n != 0)
			return malformed(e, "bad request");
		return forward(f, q, pass);
	}
	/* home-directory, users-groups-by-id and all we do not know */
	return refuse(f, q, FX_OP_UNSUPPORTED, "request not supported");
}

static const char *const reqname[] = {
	[FXP_OPEN] = "open", [FXP_CLOSE] = "close", [FXP_READ] = "read",
	[FXP_WRITE] = "write", [FXP_LSTAT] = "lstat", [FXP_FSTAT] = "fstat",
	[FXP_SETSTAT] = "setstat", [FXP_FSETSTAT] = "fsetstat",
	[FXP_OPENDIR] = "opendir", [FXP_READDIR] = "readdir",
	[FXP_REMOVE] = "remove", [FXP_MKDIR] = "mkdir", [FXP_RMDIR] = "rmdir",
	[FXP_REALPATH] = "realpath", [FXP_STAT] = "stat",
	[FXP_RENAME] = "rename", [FXP_READLINK] = "readlink",
	[FXP_SYMLINK] = "symlink",
};

/*
 * One request from the client (p, n: the packet without its length).
 * See sftp.h.
 */
int
sftp_client(struct sftp *f, const unsigned char *p, size_t n,
    struct sftp_buf *b, int *pass, struct sxerr *e)
{
	static struct req q;
	struct rd r;
	int type;

	*pass = 0;
	if (f->h == NULL)
		return sxerr_set(e, EX_OSERR, "sftp: out of memory");
	if (sftp_busy(f))
		return sxerr_set(e, EX_SOFTWARE, "sftp: too many requests");
	if (n < 1 || n > SFTP_MAX_MSG)
		return malformed(e, "bad packet length");
	type = packet(&r, p, n);
	if (type == FXP_INIT) {
		if (f->state != 0)
			return malformed(e, "second INIT");
		get_u32(&r);	/* version; extension data may follow */
		if (r.bad)
			return malformed(e, "bad INIT");
		f->state = 1;
		push(f, 0, W_INIT);
		*pass = 1;
		return 0;
	}
	if (f->state == 0)
		return malformed(e, "request before INIT");
	q.id = get_u32(&r);
	if (r.bad)
		return malformed(e, "request without id");
	q.type = type;
	q.path[0] = q.path2[0] = '\0';
	q.name = type < (int)(sizeof(reqname) / sizeof(reqname[0])) &&
	    reqname[type] != NULL ? reqname[type] : "request";
	/* A table as sftp-server(8) has: every request, one line. */
	switch (type) {
	case FXP_OPEN: return do_open(f, &r, &q, b, e);
	case FXP_CLOSE: return do_close(f, &r, &q, pass, e);
	case FXP_READ: return on_handle(f, &r, &q, &rule_read, pass, e);
	case FXP_WRITE: return do_write(f, &r, &q, pass, e);
	case FXP_FSTAT: return on_handle(f, &r, &q, &rule_fstat, pass, e);
	case FXP_FSETSTAT: return on_handle(f, &r, &q, &rule_fsetstat, pass, e);
	case FXP_READDIR: return on_handle(f, &r, &q, &rule_readdir, pass, e);
	case FXP_LSTAT:
	case FXP_READLINK: return one_path(f, &r, &q, b, &rule_lstat, e);
	case FXP_STAT:
	case FXP_REALPATH: return one_path(f, &r, &q, b, &rule_stat, e);
	case FXP_SETSTAT: return one_path(f, &r, &q, b, &rule_setstat, e);
	case FXP_MKDIR: return one_path(f, &r, &q, b, &rule_mkdir, e);
	case FXP_REMOVE:
	case FXP_RMDIR: return one_path(f, &r, &q, b, &rule_remove, e);
	case FXP_OPENDIR: return do_opendir(f, &r, &q, b, e);
	case FXP_RENAME: return two_paths(f, &r, &q, b, e);
	case FXP_SYMLINK: return do_symlink(f, &r, &q, b, e);
	case FXP_EXTENDED: return do_extended(f, &r, &q, b, pass, e);
	default:
		return refuse(f, &q, FX_OP_UNSUPPORTED,
		    "request not supported");
	}
}

/* The local answers now at the head of the line; how many were put. */
int
sftp_local(struct sftp *f, struct sftp_buf *b)
{
	struct sftp_pend *p;
	size_t at;
	int n = 0;

	while (f->qlen > 0 && (p = &f->q[f->qhead])->what == W_LOCAL &&
	    b->cap - b->len >= 4 + 9 + 4 + strlen(p->msg) + 4) {
		at = put_begin(b, FXP_STATUS, p->id, 1);
		put_u32(b, p->status);
		put_cstr(b, p->msg);
		put_cstr(b, "");
		put_end(b, at);
		pop(f);
		n++;
	}
	return n;
}

/* VERSION without the extensions the filter refuses. */
static int
server_version(struct sftp *f, struct rd *r, struct sftp_buf *b,
    struct sxerr *e)
{
	const unsigned char *name, *ver;
	uint32_t v, nn, nv;
	size_t at, i;

	v = get_u32(r);
	at = put_begin(b, FXP_VERSION, 0, 0);
	put_u32(b, v);
	while (r->n > 0 && !r->bad) {
		name = get_str(r, &nn);
		ver = get_str(r, &nv);
		if (r->bad)
			break;
		for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
			if (strlen(exts[i]) == nn &&
			    memcmp(exts[i], name, nn) == 0) {
				put_str(b, name, nn);
				put_str(b, ver, nv);
			}
	}
	if (r->bad) {
		b->len = at;
		return malformed(e, "bad VERSION from the server");
	}
	put_end(b, at);
	f->state = 2;
	pop(f);
	return 0;
}

/* A HANDLE answer to an open: what the handle is from now on. */
static int
server_handle(struct sftp *f, struct rd *r, struct sftp_pend *p,
    struct sxerr *e)
{
	struct sftp_handle *h;
	uint32_t v;

	if (p->what != W_OPEN && p->what != W_OPENDIR)
		return malformed(e, "HANDLE answers no open");
	if (get_handle(r, &v) == -1 || r->n != 0)
		return malformed(e, "bad HANDLE from the server");
	/*
	 * The server numbers handles from 0 and reuses them; at most
	 * SFTP_HMAX are open on our count, and up to SFTP_QMAX more that
	 * we already forgot may still be closing.
	 */
	if (v >= f->nh || f->h[v].path != NULL)
		return malformed(e, "unexpected handle from the server");
	h = &f->h[v];
	h->path = p->path;
	h->dir = p->what == W_OPENDIR;
	h->write = p->write;
	h->rw = p->rw;
	p->path = NULL;		/* now the handle's; still counted open */
	f->qhead = (f->qhead + 1) % SFTP_QMAX;
	f->qlen--;
	return 0;
}

/* One answer from the server. See sftp.h. */
int
sftp_server(struct sftp *f, const unsigned char *p, size_t n,
    struct sftp_buf *b, int *pass, struct sxerr *e)
{
	struct sftp_pend *head;
	struct rd r;
	uint32_t id;
	int type;

	*pass = 0;
	if (n < 1 || n > SFTP_MAX_MSG)
		return malformed(e, "bad packet length from the server");
	if (f->qlen == 0 || (head = &f->q[f->qhead])->what == W_LOCAL)
		return malformed(e, "answer to no request");
	type = packet(&r, p, n);
	if (type == FXP_VERSION) {
		if (head->what != W_INIT)
			return malformed(e, "VERSION out of place");
		return server_version(f, &r, b, e);
	}
	id = get_u32(&r);
	if (r.bad || head->what == W_INIT || id != head->id)
		return malformed(e, "answer out of order");
	switch (type) {
	case FXP_HANDLE:
		if (server_handle(f, &r, head, e) == -1)
			return -1;
		*pass = 1;
		return 0;
	case FXP_DATA:
	case FXP_NAME:
	case FXP_ATTRS:
	case FXP_EXTENDED_REPLY:
		if (head->what == W_OPEN || head->what == W_OPENDIR)
			return malformed(e, "open answered without a handle");
		/* FALLTHROUGH */
	case FXP_STATUS:
		pop(f);
		*pass = 1;
		return 0;
	default:
		return malformed(e, "unknown answer from the server");
	}
}
