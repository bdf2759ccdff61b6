/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * The compiled-policy cache: a hit only for the very file it was made
 * from, written 0600 in a 0700 directory under $XDG_CACHE_HOME, and
 * never believed when someone else could have written it. Sets (many
 * files' forms in one cache file): each record by its own file, and a
 * set that is not whole and well formed not believed at all.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pcache.h"

static char top[] = "/tmp/pcache-unit-XXXXXX";
static char cache[64];

static int
setup(void **state)
{
	if (mkdtemp(top) == NULL)
		return -1;
	snprintf(cache, sizeof(cache), "%s/cache", top);
	setenv("XDG_CACHE_HOME", cache, 1);
	return 0;
}

/* The one file the cache holds, into path; 0 when there is one. */
static int
cached(char *path, size_t sz)
{
	char dir[128];
	struct dirent *d;
	DIR *dp;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/scitex-ssh", cache);
	if ((dp = opendir(dir)) == NULL)
		return -1;
	while ((d = readdir(dp)) != NULL)
		if (d->d_name[0] != '.') {
			snprintf(path, sz, "%s/%s", dir, d->d_name);
			n++;
		}
	closedir(dp);
	return n == 1 ? 0 : -1;
}

static int
teardown(void **state)
{
	char path[512], dir[128];

	while (cached(path, sizeof(path)) == 0)
		unlink(path);
	snprintf(dir, sizeof(dir), "%s/scitex-ssh", cache);
	rmdir(dir);
	rmdir(cache);
	return rmdir(top);
}

/* A source file as stat(2) saw it, settled (changed long enough ago). */
static void
source(struct stat *st, off_t size)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = 1;
	st->st_ino = 42;
	st->st_size = size;
	st->st_mtime = st->st_ctime = time(NULL) - 60;
}

static void
t_roundtrip(void **state)
{
	struct stat st, cst, dst;
	char path[512], dir[128];
	void *blob;
	size_t len;

	source(&st, 5);
	assert_int_equal(pcache_get("policy", "/etc/x.yaml", &st, &blob, &len),
	    -1);
	pcache_put("policy", "/etc/x.yaml", &st, "hello", 5);
	assert_int_equal(pcache_get("policy", "/etc/x.yaml", &st, &blob, &len),
	    0);
	assert_int_equal(len, 5);
	assert_memory_equal(blob, "hello", 5);
	free(blob);
	/* on disk: ours, 0600, in a 0700 directory */
	assert_int_equal(cached(path, sizeof(path)), 0);
	assert_int_equal(stat(path, &cst), 0);
	assert_int_equal(cst.st_mode & 07777, 0600);
	assert_int_equal(cst.st_uid, geteuid());
	snprintf(dir, sizeof(dir), "%s/scitex-ssh", cache);
	assert_int_equal(stat(dir, &dst), 0);
	assert_int_equal(dst.st_mode & 07777, 0700);
}

/* Another file, another kind, the file changed: all misses. */
static void
t_misses(void **state)
{
	struct stat st, other;
	void *blob;
	size_t len;

	source(&st, 5);
	pcache_put("policy", "/etc/x.yaml", &st, "hello", 5);
	assert_int_equal(pcache_get("guard", "/etc/x.yaml", &st, &blob, &len),
	    -1);
	assert_int_equal(pcache_get("policy", "/etc/y.yaml", &st, &blob, &len),
	    -1);
	other = st;
	other.st_ino++;
	assert_int_equal(pcache_get("policy", "/etc/x.yaml", &other, &blob,
	    &len), -1);
	other = st;
	other.st_mtime++;
	assert_int_equal(pcache_get("policy", "/etc/x.yaml", &other, &blob,
	    &len), -1);
	other = st;
	other.st_size++;
	assert_int_equal(pcache_get("policy", "/etc/x.yaml", &other, &blob,
	    &len), -1);
}

/* A file still being edited is not cached: it may change within a tick. */
static void
t_unsettled(void **state)
{
	char path[512];
	struct stat st;
	void *blob;
	size_t len;

	while (cached(path, sizeof(path)) == 0)
		unlink(path);
	source(&st, 3);
	st.st_mtime = st.st_ctime = time(NULL);
	pcache_put("policy", "/etc/z.yaml", &st, "abc", 3);
	assert_int_equal(pcache_get("policy", "/etc/z.yaml", &st, &blob, &len),
	    -1);
	assert_int_equal(cached(path, sizeof(path)), -1);
}

/* A cache file others may write, or one cut short, is not believed. */
static void
t_tampered(void **state)
{
	char path[512];
	struct stat st, cst;
	void *blob;
	size_t len;

	source(&st, 5);
	pcache_put("policy", "/etc/x.yaml", &st, "hello", 5);
	assert_int_equal(cached(path, sizeof(path)), 0);
	assert_int_equal(chmod(path, 0622), 0);
	assert_int_equal(pcache_get("policy", "/etc/x.yaml", &st, &blob, &len),
	    -1);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(pcache_get("policy", "/etc/x.yaml", &st, &blob, &len),
	    0);
	free(blob);
	assert_int_equal(stat(path, &cst), 0);
	assert_int_equal(truncate(path, cst.st_size - 1), 0);
	assert_int_equal(pcache_get("policy", "/etc/x.yaml", &st, &blob, &len),
	    -1);
}

static void
empty_cache(void)
{
	char path[512];

	while (cached(path, sizeof(path)) == 0)
		unlink(path);
}

/* Three files' records: each found by its own file as it is, no other. */
static void
t_set(void **state)
{
	struct stat a, b, c, other;
	struct pcset made, s;
	const char *blob;
	char path[512];
	size_t len;

	empty_cache();
	source(&a, 10);
	b = c = a;
	b.st_ino = 43;
	c.st_ino = 44;
	memset(&made, 0, sizeof(made));
	assert_int_equal(pcset_add(&made, "b", &b, "2222\nu@h\n", 9), 0);
	assert_int_equal(pcset_add(&made, "a", &a, "", 0), 0);
	assert_int_equal(pcset_add(&made, "c.yaml", &c, "x", 1), 0);
	/* changed within the last 2 s, a name too long: not added */
	other = a;
	other.st_ctime = time(NULL);
	assert_int_equal(pcset_add(&made, "d", &other, "y", 1), 1);
	memset(path, 'n', 300);
	path[300] = '\0';
	assert_int_equal(pcset_add(&made, path, &a, "y", 1), 1);
	assert_int_equal(pcset_add(&made, "", &a, "y", 1), 1);
	assert_int_equal(pcset_load("defs", "/d", &s), -1);
	pcset_put("defs", "/d", &made);
	pcset_free(&made);

	assert_int_equal(pcset_load("defs", "/d", &s), 0);
	assert_int_equal(s.n, 3);
	assert_non_null(blob = pcset_find(&s, "b", &b, &len));
	assert_int_equal(len, 9);
	assert_memory_equal(blob, "2222\nu@h\n", 9);
	assert_non_null(pcset_find(&s, "a", &a, &len));
	assert_int_equal(len, 0);
	assert_non_null(blob = pcset_find(&s, "c.yaml", &c, &len));
	assert_memory_equal(blob, "x", 1);
	/* another file under the name, the file changed, no such name */
	assert_null(pcset_find(&s, "a", &b, &len));
	other = a;
	other.st_size++;
	assert_null(pcset_find(&s, "a", &other, &len));
	other = a;
	other.st_mtim.tv_nsec++;
	assert_null(pcset_find(&s, "a", &other, &len));
	other = a;
	other.st_ctime++;
	assert_null(pcset_find(&s, "a", &other, &len));
	other = a;
	other.st_dev++;
	assert_null(pcset_find(&s, "a", &other, &len));
	assert_null(pcset_find(&s, "d", &a, &len));
	assert_null(pcset_find(&s, "c", &c, &len));
	assert_null(pcset_find(&s, "", &c, &len));
	pcset_free(&s);
	/* another kind, another source: none */
	assert_int_equal(pcset_load("defs2", "/d", &s), -1);
	assert_int_equal(pcset_load("defs", "/e", &s), -1);
	assert_int_equal(s.n, 0);
}

/* Others may write it, a byte changed, cut short: not believed. */
static void
t_set_tampered(void **state)
{
	struct pcset made, s;
	struct stat a, cst;
	char path[512];
	FILE *fp;

	empty_cache();
	source(&a, 10);
	memset(&made, 0, sizeof(made));
	assert_int_equal(pcset_add(&made, "a", &a, "2222\n", 5), 0);
	pcset_put("defs", "/d", &made);
	pcset_free(&made);
	assert_int_equal(cached(path, sizeof(path)), 0);
	assert_int_equal(chmod(path, 0620), 0);
	assert_int_equal(pcset_load("defs", "/d", &s), -1);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(pcset_load("defs", "/d", &s), 0);
	pcset_free(&s);
	/* a byte of the blob changed, the sum not */
	assert_non_null(fp = fopen(path, "r+"));
	assert_int_equal(fseek(fp, -6, SEEK_END), 0);	/* 2 bytes pad */
	assert_int_equal(fputc('9', fp), '9');
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(pcset_load("defs", "/d", &s), -1);
	assert_int_equal(s.n, 0);
	assert_null(s.buf);
	assert_int_equal(stat(path, &cst), 0);
	assert_int_equal(truncate(path, cst.st_size - 8), 0);
	assert_int_equal(pcset_load("defs", "/d", &s), -1);
	empty_cache();
}

/* Records as they may not be: the whole set refused. */
static void
t_set_parse(void **state)
{
	struct {
		uint64_t	dev, ino, size;
		int64_t		t[4];
		uint32_t	namelen, bloblen;
		char		tail[24];
	} r[2];
	struct pcset s;

	memset(r, 0, sizeof(r));
	r[0].namelen = 1;
	r[0].bloblen = 2;
	memcpy(r[0].tail, "abc\0\0\0\0\0", 8);
	assert_int_equal(pcset_parse(&s, (char *)r, 64 + 8), 0);
	assert_int_equal(s.n, 1);
	free(s.v);
	/* cut short: in the header, in the name, in the padding */
	assert_int_equal(pcset_parse(&s, (char *)r, 40), -1);
	assert_int_equal(pcset_parse(&s, (char *)r, 64), -1);
	assert_int_equal(pcset_parse(&s, (char *)r, 64 + 7), -1);
	assert_int_equal(s.n, 0);
	assert_null(s.v);
	/* no name; a name or blob longer than any */
	r[0].namelen = 0;
	assert_int_equal(pcset_parse(&s, (char *)r, 64 + 8), -1);
	r[0].namelen = 256;
	assert_int_equal(pcset_parse(&s, (char *)r, sizeof(r)), -1);
	r[0].namelen = 1;
	r[0].bloblen = UINT32_MAX;
	assert_int_equal(pcset_parse(&s, (char *)r, sizeof(r)), -1);
	/* one name twice */
	r[0].bloblen = 2;
	memcpy(&r[1], &r[0], 64 + 8);
	assert_int_equal(sizeof(r[0]), 64 + 24);
	{
		char two[2 * 72];

		memcpy(two, &r[0], 72);
		memcpy(two + 72, &r[0], 72);
		assert_int_equal(pcset_parse(&s, two, sizeof(two)), -1);
		two[72 + 64] = 'b';
		assert_int_equal(pcset_parse(&s, two, sizeof(two)), 0);
		assert_int_equal(s.n, 2);
		free(s.v);
	}
	assert_int_equal(pcset_parse(&s, (char *)r, 0), 0);
	assert_int_equal(s.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_roundtrip),
		cmocka_unit_test(t_misses),
		cmocka_unit_test(t_unsettled),
		cmocka_unit_test(t_tampered),
		cmocka_unit_test(t_set),
		cmocka_unit_test(t_set_tampered),
		cmocka_unit_test(t_set_parse),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
