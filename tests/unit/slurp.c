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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_fits),
		cmocka_unit_test(t_more),
		cmocka_unit_test(t_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
