/* SPDX-License-Identifier: AGPL-3.0-only */
/* A whole file into a buffer: what fits, what is more, what is refused. */
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

#include "slurp.h"

static char top[] = "/tmp/slurp-unit-XXXXXX";
static char file[64], link_[64];

static int
setup(void **state)
{
	int fd;

	if (mkdtemp(top) == NULL)
		return -1;
	snprintf(file, sizeof(file), "%s/f", top);
	snprintf(link_, sizeof(link_), "%s/l", top);
	if ((fd = open(file, O_WRONLY | O_CREAT, 0600)) == -1 ||
	    write(fd, "0123456789", 10) != 10 || close(fd) == -1 ||
	    symlink(file, link_) == -1)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	unlink(link_);
	unlink(file);
	return rmdir(top);
}

static void
t_fits(void **st)
{
	char buf[11];
	size_t len;

	/* exactly: ten bytes and the NUL */
	assert_int_equal(slurp(file, 0, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 10);
	assert_string_equal(buf, "0123456789");
}

static void
t_more(void **st)
{
	char buf[5];
	size_t len;
	int fd;

	assert_int_equal(slurp(file, 0, buf, sizeof(buf), &len), 1);
	assert_int_equal(len, 4);
	assert_string_equal(buf, "0123");
	assert_int_not_equal(fd = open(file, O_RDONLY), -1);
	assert_int_equal(slurp_fd(fd, buf, sizeof(buf), &len), 1);
	close(fd);
}

/* One read: what it gave is the file; a full buffer is said, not read on. */
static void
t_once(void **st)
{
	char buf[16], exact[11], path[64];
	size_t len;
	int p[2];

	assert_int_equal(slurp_once(file, O_NOFOLLOW, buf, sizeof(buf), &len),
	    0);
	assert_int_equal(len, 10);
	assert_string_equal(buf, "0123456789");
	/* Filled: maybe more, where slurp() reads on to know. */
	assert_int_equal(slurp_once(file, 0, exact, sizeof(exact), &len), 1);
	assert_int_equal(len, 10);
	assert_int_equal(slurp(file, 0, exact, sizeof(exact), &len), 0);
	assert_int_equal(slurp_once(link_, O_NOFOLLOW, buf, sizeof(buf),
	    &len), -1);
	assert_int_equal(errno, ELOOP);
	/* A pipe whose writer stays open: slurp() would wait for its end. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "ab", 2), 2);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	assert_int_equal(slurp_once(path, 0, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 2);
	assert_string_equal(buf, "ab");
	close(p[0]);
	close(p[1]);
}

static void
t_refused(void **st)
{
	char buf[16];
	size_t len;

	assert_int_equal(slurp(link_, O_NOFOLLOW, buf, sizeof(buf), &len), -1);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(slurp(link_, 0, buf, sizeof(buf), &len), 0);
	assert_int_equal(slurp("/nonexistent/x", 0, buf, sizeof(buf), &len),
	    -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(buf, "");
	assert_int_equal(slurp(top, 0, buf, sizeof(buf), &len), -1);
	assert_int_equal(errno, EISDIR);
}

/* What slurp_lines gave fn: the lines joined by '|'; stops at "stop". */
static char got[256];

static int
collect(char *line, void *arg)
{
	int *n = arg;

	(*n)++;
	strlcat(got, line, sizeof(got));
	strlcat(got, "|", sizeof(got));
	return strcmp(line, "stop") == 0 ? 7 : 0;
}

/* lines F TEXT BUFSZ: slurp_lines over a file holding TEXT. */
static int
lines(const char *text, size_t sz, int *n)
{
	char buf[64];
	int fd;

	assert_true(sz <= sizeof(buf));
	assert_true((fd = open(file, O_WRONLY | O_TRUNC)) != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	got[0] = '\0';
	*n = 0;
	return slurp_lines(file, buf, sz, collect, n);
}

static void
t_lines(void **st)
{
	int n;

	assert_int_equal(lines("a\nbb\n\nccc\n", 64, &n), 0);
	assert_string_equal(got, "a|bb||ccc|");
	assert_int_equal(n, 4);
	/* lines split over reads of a small buffer, a last one unended */
	assert_int_equal(lines("abcde\nfghij\nkl", 8, &n), 0);
	assert_string_equal(got, "abcde|fghij|kl|");
	/* too long for the buffer: skipped whole, the next one whole */
	assert_int_equal(lines("0123456789abcdef\nok\n", 8, &n), 0);
	assert_string_equal(got, "ok|");
	assert_int_equal(lines("0123456789abcdef", 8, &n), 0);
	assert_string_equal(got, "");
	/* fn's non-zero stops and is returned */
	assert_int_equal(lines("x\nstop\ny\n", 64, &n), 7);
	assert_string_equal(got, "x|stop|");
	assert_int_equal(lines("", 64, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(slurp_lines("/nonexistent/x", got, 8, collect, &n),
	    -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(slurp_lines(file, got, 1, collect, &n), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_fits),
		cmocka_unit_test(t_more),
		cmocka_unit_test(t_once),
		cmocka_unit_test(t_lines),
		cmocka_unit_test(t_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
