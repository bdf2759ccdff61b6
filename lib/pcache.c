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
#include "xdg.h"

#define PCACHE_MAX	(64 * 1024 * 1024)

/*
 * A file changed twice within one timestamp tick keeps its mtime and ctime;
 * only files older than this are cached, as git does with its index.
 */
#define PCACHE_SETTLE	2

struct phdr {
	char		magic[8];
	uint64_t	dev, ino, size;
	int64_t		msec, mnsec, csec, cnsec;
	uint64_t	len, sum;
};

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
	snprintf(h->magic, sizeof(h->magic), "SX%s", kind);
	h->dev = st->st_dev;
	h->ino = st->st_ino;
	h->size = st->st_size;
	h->msec = st->st_mtim.tv_sec;
	h->mnsec = st->st_mtim.tv_nsec;
	h->csec = st->st_ctim.tv_sec;
	h->cnsec = st->st_ctim.tv_nsec;
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
 * The cached blob for src as it is now (st), or -1. Only a regular file of
 * ours that nobody else can write is believed.
 */
int
pcache_get(const char *kind, const char *src, const struct stat *st,
    void **blobp, size_t *lenp)
{
	char path[4096], dir[4096];
	struct phdr want, got;
	struct stat cst;
	void *blob = NULL;
	int fd;

	if (cache_path(kind, src, path, sizeof(path), dir, sizeof(dir)) == -1 ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &cst) == -1 || !S_ISREG(cst.st_mode) ||
	    cst.st_uid != geteuid() || (cst.st_mode & 022) != 0 ||
	    read(fd, &got, sizeof(got)) != sizeof(got) ||
	    got.len > PCACHE_MAX ||
	    (size_t)cst.st_size != sizeof(got) + got.len ||
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

/* Best effort: a cache that cannot be written is simply not there. */
void
pcache_put(const char *kind, const char *src, const struct stat *st,
    const void *blob, size_t len)
{
	char path[4096], dir[4096], tmp[4200];
	struct phdr h;
	time_t now = time(NULL);
	int fd, ok;

	if (now - st->st_mtime < PCACHE_SETTLE ||
	    now - st->st_ctime < PCACHE_SETTLE || len > PCACHE_MAX ||
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
	fill_hdr(&h, kind, st, blob, len);
	ok = write(fd, &h, sizeof(h)) == sizeof(h) &&
	    write(fd, blob, len) == (ssize_t)len;
	if (close(fd) == -1 || !ok || rename(tmp, path) == -1)
		unlink(tmp);
}
