/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * The compiled-policy cache: a hit only for the very file it was made
 * from, written 0600 in a 0700 directory under $XDG_CACHE_HOME, and
 * never believed when someone else could have written it.
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_roundtrip),
		cmocka_unit_test(t_misses),
		cmocka_unit_test(t_unsettled),
		cmocka_unit_test(t_tampered),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
