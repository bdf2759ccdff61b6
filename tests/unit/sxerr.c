/* SPDX-License-Identifier: AGPL-3.0-only */
/* The error contract: -1, the exit code and "what: why", errno kept. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sxerr.h"

static void
t_set(void **st)
{
	struct sxerr e;

	assert_int_equal(sxerr_set(&e, EX_DATAERR, "%s: %d", "port", 7), -1);
	assert_int_equal(e.ex, EX_DATAERR);
	assert_string_equal(e.msg, "port: 7");
	/* No place to put it: still -1, nothing written. */
	assert_int_equal(sxerr_set(NULL, EX_OSERR, "x"), -1);
}

static void
t_errno(void **st)
{
	struct sxerr e;

	errno = ENOENT;
	assert_int_equal(sxerr_errno(&e, EX_OSERR, "%s", "/x"), -1);
	assert_int_equal(e.ex, EX_OSERR);
	assert_string_equal(e.msg, "/x: No such file or directory");
	assert_int_equal(errno, ENOENT);
	errno = EACCES;
	assert_int_equal(sxerr_errno(NULL, EX_OSERR, "y"), -1);
	assert_int_equal(errno, EACCES);
}

static void
t_long(void **st)
{
	char big[3000];
	struct sxerr e;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sxerr_set(&e, EX_USAGE, "%s", big);
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
	errno = EPERM;
	sxerr_errno(&e, EX_NOPERM, "%s", big);
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
	assert_int_equal(e.ex, EX_NOPERM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_set),
		cmocka_unit_test(t_errno),
		cmocka_unit_test(t_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
