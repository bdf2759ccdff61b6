/* SPDX-License-Identifier: AGPL-3.0-only */
/* Directories watched: renames seen by name, lost events said, refusals. */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dirwatch.h"

static char top[] = "/tmp/dirwatch-unit-XXXXXX";
static char a[64], b[64];

static int
setup(void **state)
{
	if (mkdtemp(top) == NULL)
		return -1;
	snprintf(a, sizeof(a), "%s/a", top);
	snprintf(b, sizeof(b), "%s/b", top);
	return mkdir(a, 0700) == -1 || mkdir(b, 0700) == -1 ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

struct seen {
	char	names[8][32];
	int	n;
	int	calls;
};

static void
note(const char *name, void *arg)
{
	struct seen *s = arg;

	s->calls++;
	if (s->n < 8)
		strlcpy(s->names[s->n++], name, sizeof(s->names[0]));
}

/* path made and written, then renamed to dst (as a state table is). */
static void
put(const char *dir, const char *tmp, const char *dst)
{
	char p[128], q[128];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, tmp);
	snprintf(q, sizeof(q), "%s/%s", dir, dst);
	assert_true((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1);
	assert_int_equal(write(fd, "x\n", 2), 2);
	assert_int_equal(close(fd), 0);
	assert_int_equal(rename(p, q), 0);
}

/* Two directories (one named twice): each rename seen by its name. */
static void
t_renames(void **st)
{
	const char *dirs[] = { a, b, a };
	struct seen s = { 0 };
	int fd;

	assert_true((fd = dirwatch_open(dirs, 3, IN_MOVED_TO)) != -1);
	assert_int_equal(dirwatch_drain(fd, note, &s), 0);
	assert_int_equal(s.calls, 0);
	put(a, ".x.tmp", "x.state");
	put(b, ".y.tmp", "y.state");
	assert_int_equal(dirwatch_drain(fd, note, &s), 0);
	assert_int_equal(s.calls, 2);
	assert_string_equal(s.names[0], "x.state");
	assert_string_equal(s.names[1], "y.state");
	/* drained: nothing the second time */
	assert_int_equal(dirwatch_drain(fd, note, &s), 0);
	assert_int_equal(s.calls, 2);
	close(fd);
}

/* More events than the kernel queues: said, so the caller looks at all. */
static void
t_overflow(void **st)
{
	const char *dirs[] = { a };
	struct seen s = { 0 };
	char p[128];
	long max = 16384, i;
	FILE *f;
	int fd;

	if ((f = fopen("/proc/sys/fs/inotify/max_queued_events", "r")) != NULL) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 16384;
		fclose(f);
	}
	if (max > 100000)
		skip();
	assert_true((fd = dirwatch_open(dirs, 1, IN_CREATE)) != -1);
	for (i = 0; i <= max; i++) {
		snprintf(p, sizeof(p), "%s/o%ld", a, i);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	assert_int_equal(dirwatch_drain(fd, note, &s), 1);
	close(fd);
	for (i = 0; i <= max; i++) {
		snprintf(p, sizeof(p), "%s/o%ld", a, i);
		rmdir(p);
	}
}

/* A directory that cannot be watched: -1, errno kept, nothing leaked. */
static void
t_refused(void **st)
{
	const char *dirs[] = { a, "/nonexistent/dirwatch" };

	errno = 0;
	assert_int_equal(dirwatch_open(dirs, 2, IN_MOVED_TO), -1);
	assert_int_equal(errno, ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_renames),
		cmocka_unit_test(t_overflow),
		cmocka_unit_test(t_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
