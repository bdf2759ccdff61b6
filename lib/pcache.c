/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pcache.h"
#include "vec.h"
#include "xdg.h"

#define PCACHE_MAX	(64 * 1024 * 1024)

/*
 * A file changed twice within one timestamp tick keeps its mtime and ctime;
 * only files older than this are cached, as git does with its index.
 */
#define PCACHE_SETTLE	2

/* A file as it was when its form was made: all of it must still agree. */
struct fid {
	uint64_t	dev, ino, size;
	int64_t		msec, mnsec, csec, cnsec;
};

struct phdr {
	char		magic[8];
	struct fid	id;
	uint64_t	len, sum;
};

static void
fid_set(struct fid *f, const struct stat *st)
{
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->size = (uint64_t)st->st_size;
	f->msec = st->st_mtim.tv_sec;
	f->mnsec = st->st_mtim.tv_nsec;
	f->csec = st->st_ctim.tv_sec;
	f->cnsec = st->st_ctim.tv_nsec;
}

/* "SX" and the kind: what a cache file of that kind begins with. */
static void
magic_set(char m[8], const char *kind)
{
	memset(m, 0, 8);
	snprintf(m, 8, "SX%s", kind);
}

static uint64_t
fnv1a(const void *p, size_t n, uint64_t h)
{
	const unsigned char *c = p;

	while (n-- > 0)
		h = (h ^ *c++) * 0x100000001b3ULL;
	return h;
}

/* The blob's checksum, a word at a time: it is read on every ssh. */
static uint64_t
sum64(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t h = 0xcbf29ce484222325ULL, w;

	for (; n >= 8; n -= 8, c += 8) {
		memcpy(&w, c, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return fnv1a(c, n, h);
}

static void
fill_hdr(struct phdr *h, const char *kind, const struct stat *st,
    const void *blob, size_t len)
{
	memset(h, 0, sizeof(*h));
	magic_set(h->magic, kind);
	fid_set(&h->id, st);
	h->len = len;
	h->sum = sum64(blob, len);
}

/* $XDG_CACHE_HOME/scitex-ssh/KIND-HASH, hashed over the source's path. */
static int
cache_path(const char *kind, const char *src, char *buf, size_t sz,
    char *dir, size_t dirsz)
{
	int n;

	if (xdg_path(dir, dirsz, "XDG_CACHE_HOME", ".cache", "scitex-ssh",
	    0) == -1)
		return -1;
	n = snprintf(buf, sz, "%s/%s-%016llx", dir, kind,
	    (unsigned long long)fnv1a(src, strlen(src), 0xcbf29ce484222325ULL));
	return n < 0 || (size_t)n >= sz ? -1 : 0;
}

/*
 * The cache file of kind for src, opened, if it is one to believe: a
 * regular file of ours that nobody else can write. Its size into *size;
 * -1 when there is none.
 */
static int
cache_open(const char *kind, const char *src, off_t *size)
{
	char path[4096], dir[4096];
	struct stat cst;
	int fd;

	if (cache_path(kind, src, path, sizeof(path), dir, sizeof(dir)) == -1 ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &cst) == -1 || !S_ISREG(cst.st_mode) ||
	    cst.st_uid != geteuid() || (cst.st_mode & 022) != 0) {
		close(fd);
		return -1;
	}
	*size = cst.st_size;
	return fd;
}

/*
 * The cached blob for src as it is now (st), or -1. Only a regular file of
 * ours that nobody else can write is believed.
 */
int
pcache_get(const char *kind, const char *src, const struct stat *st,
    void **blobp, size_t *lenp)
{
	struct phdr want, got;
	void *blob = NULL;
	off_t size;
	int fd;

	if ((fd = cache_open(kind, src, &size)) == -1)
		return -1;
	if (read(fd, &got, sizeof(got)) != sizeof(got) ||
	    got.len > PCACHE_MAX || (size_t)size != sizeof(got) + got.len ||
	    (blob = malloc(got.len + 1)) == NULL ||
	    read(fd, blob, got.len) != (ssize_t)got.len)
		goto miss;
	fill_hdr(&want, kind, st, blob, got.len);
	if (memcmp(&want, &got, sizeof(want)) != 0)
		goto miss;
	close(fd);
	*blobp = blob;
	*lenp = got.len;
	return 0;
miss:
	free(blob);
	close(fd);
	return -1;
}

/* Whether a file as st says was changed long enough ago to be cached. */
static int
settled(const struct stat *st)
{
	time_t now = time(NULL);

	return now - st->st_mtime >= PCACHE_SETTLE &&
	    now - st->st_ctime >= PCACHE_SETTLE;
}

/*
 * The cache file of kind for src written anew, h then the blob, made
 * whole under another name and renamed into place. Best effort.
 */
static void
cache_write(const char *kind, const char *src, const void *h, size_t hlen,
    const void *blob, size_t len)
{
	char path[4096], dir[4096], tmp[4200];
	int fd, ok;

	if (len > PCACHE_MAX ||
	    cache_path(kind, src, path, sizeof(path), dir, sizeof(dir)) == -1)
		return;
	/* The XDG base directory spec: create what is missing, 0700. */
	if (mkdir(dir, 0700) == -1 && errno == ENOENT) {
		char parent[4096], *slash;

		strlcpy(parent, dir, sizeof(parent));
		if ((slash = strrchr(parent, '/')) != NULL) {
			*slash = '\0';
			(void)mkdir(parent, 0700);
		}
		(void)mkdir(dir, 0700);
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp) ||
	    (fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return;
	ok = write(fd, h, hlen) == (ssize_t)hlen &&
	    write(fd, blob, len) == (ssize_t)len;
	if (close(fd) == -1 || !ok || rename(tmp, path) == -1)
		unlink(tmp);
}

/* Best effort: a cache that cannot be written is simply not there. */
void
pcache_put(const char *kind, const char *src, const struct stat *st,
    const void *blob, size_t len)
{
	struct phdr h;

	if (!settled(st) || len > PCACHE_MAX)
		return;
	fill_hdr(&h, kind, st, blob, len);
	cache_write(kind, src, &h, sizeof(h), blob, len);
}

/*
 * A set: the compiled forms of many files in one cache file (those of a
 * directory), each a record valid only while its own file is the one it
 * was made from. After the header, records one after another, each
 * aligned to 8: struct prec, the name, the blob.
 */
struct shdr {
	char		magic[8];
	uint64_t	len, sum;	/* of the records */
};

struct prec {
	struct fid	id;
	uint32_t	namelen, bloblen;
};

#define PCSET_NAME	255	/* a file name's longest */
#define PCSET_BLOB	65536

static size_t
rec_size(size_t namelen, size_t bloblen)
{
	return (sizeof(struct prec) + namelen + bloblen + 7) & ~(size_t)7;
}

static int
by_name(const void *a, const void *b)
{
	const struct pcent *x = a, *y = b;
	size_t n = x->namelen < y->namelen ? x->namelen : y->namelen;
	int c = memcmp(x->name, y->name, n);

	if (c != 0)
		return c;
	return x->namelen < y->namelen ? -1 : x->namelen > y->namelen;
}

/*
 * The records of buf (len bytes) indexed by name into s: 0, or -1 when
 * they are not whole and well formed (s then empty). buf is s's after.
 */
int
pcset_parse(struct pcset *s, char *buf, size_t len)
{
	struct prec r;
	size_t off, n = 0, room = 0, sz;

	memset(s, 0, sizeof(*s));
	s->buf = buf;
	s->len = len;
	for (off = 0; off < len; off += sz) {
		if (len - off < sizeof(r))
			goto bad;
		memcpy(&r, buf + off, sizeof(r));
		if (r.namelen == 0 || r.namelen > PCSET_NAME ||
		    r.bloblen > PCSET_BLOB ||
		    (sz = rec_size(r.namelen, r.bloblen)) > len - off)
			goto bad;
		if (vec_room(&s->v, &room, n, sizeof(*s->v)) == -1)
			goto bad;
		s->v[n].name = buf + off + sizeof(r);
		s->v[n].namelen = r.namelen;
		s->v[n].off = off;
		n++;
	}
	s->n = n;
	if (n > 0)
		qsort(s->v, n, sizeof(*s->v), by_name);
	/* One name twice: not a set we wrote. */
	for (off = 1; off < n; off++)
		if (by_name(&s->v[off - 1], &s->v[off]) == 0)
			goto bad;
	return 0;
bad:
	free(s->v);
	memset(s, 0, sizeof(*s));
	return -1;
}

/*
 * The set of kind for src, as cached, into s: 0; -1 (s empty) when there
 * is none to believe.
 */
int
pcset_load(const char *kind, const char *src, struct pcset *s)
{
	struct shdr h;
	char *buf = NULL, want[8];
	off_t size;
	int fd;

	memset(s, 0, sizeof(*s));
	if ((fd = cache_open(kind, src, &size)) == -1)
		return -1;
	magic_set(want, kind);
	if (read(fd, &h, sizeof(h)) != sizeof(h) ||
	    memcmp(h.magic, want, sizeof(want)) != 0 ||
	    h.len > PCACHE_MAX || (size_t)size != sizeof(h) + h.len ||
	    (buf = malloc(h.len + 1)) == NULL ||
	    read(fd, buf, h.len) != (ssize_t)h.len ||
	    sum64(buf, h.len) != h.sum || pcset_parse(s, buf, h.len) == -1) {
		free(buf);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The blob of name, made from the file as st says it is now, or NULL. */
const void *
pcset_find(const struct pcset *s, const char *name, const struct stat *st,
    size_t *lenp)
{
	struct pcent k, *hit;
	struct prec r;
	struct fid want;

	k.name = name;
	k.namelen = strlen(name);
	if (s->n == 0 || (hit = bsearch(&k, s->v, s->n, sizeof(*s->v),
	    by_name)) == NULL)
		return NULL;
	memcpy(&r, s->buf + hit->off, sizeof(r));
	fid_set(&want, st);
	if (memcmp(&r.id, &want, sizeof(want)) != 0)
		return NULL;
	*lenp = r.bloblen;
	return s->buf + hit->off + sizeof(r) + r.namelen;
}

/*
 * The blob of name, made from the file st says, added to s (a set being
 * made: not one loaded): 0; 1 when the file changed too lately to be
 * cached, or the name or blob is too long; -1 out of memory.
 */
int
pcset_add(struct pcset *s, const char *name, const struct stat *st,
    const void *blob, size_t len)
{
	struct prec r;
	size_t namelen = strlen(name), sz, room;
	char *b;

	if (!settled(st) || namelen == 0 || namelen > PCSET_NAME ||
	    len > PCSET_BLOB)
		return 1;
	sz = rec_size(namelen, len);
	if (s->len + sz > s->room) {
		for (room = s->room == 0 ? 4096 : s->room; room < s->len + sz;)
			room *= 2;
		if ((b = realloc(s->buf, room)) == NULL)
			return -1;
		s->buf = b;
		s->room = room;
	}
	memset(&r, 0, sizeof(r));
	fid_set(&r.id, st);
	r.namelen = (uint32_t)namelen;
	r.bloblen = (uint32_t)len;
	memset(s->buf + s->len, 0, sz);
	memcpy(s->buf + s->len, &r, sizeof(r));
	memcpy(s->buf + s->len + sizeof(r), name, namelen);
	memcpy(s->buf + s->len + sizeof(r) + namelen, blob, len);
	s->len += sz;
	return 0;
}

/* s written as the set of kind for src. Best effort. */
void
pcset_put(const char *kind, const char *src, const struct pcset *s)
{
	struct shdr h;

	memset(&h, 0, sizeof(h));
	magic_set(h.magic, kind);
	h.len = s->len;
	h.sum = sum64(s->buf, s->len);
	cache_write(kind, src, &h, sizeof(h), s->buf, s->len);
}

void
pcset_free(struct pcset *s)
{
	free(s->v);
	free(s->buf);
	memset(s, 0, sizeof(*s));
}
