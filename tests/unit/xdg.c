/* SPDX-License-Identifier: AGPL-3.0-only */
/* The XDG directories and their defaults under the home directory. */
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "xdg.h"

static void
t_path(void **st)
{
	char buf[64];

	setenv("HOME", "/home/u", 1);
	setenv("XDG_CACHE_HOME", "/c", 1);
	assert_int_equal(xdg_path(buf, sizeof(buf), "XDG_CACHE_HOME",
	    ".cache", "scitex-ssh", 0), 0);
	assert_string_equal(buf, "/c/scitex-ssh");
	/* relative: ignored, as the specification says */
	setenv("XDG_CACHE_HOME", "c", 1);
	assert_int_equal(xdg_path(buf, sizeof(buf), "XDG_CACHE_HOME",
	    ".cache", "scitex-ssh", 0), 0);
	assert_string_equal(buf, "/home/u/.cache/scitex-ssh");
	unsetenv("XDG_CACHE_HOME");
	assert_int_equal(xdg_path(buf, 10, "XDG_CACHE_HOME", ".cache",
	    "scitex-ssh", 0), -1);
	assert_int_equal(xdg_path(buf, sizeof(buf), NULL, ".config",
	    "x", 0), 0);
	assert_string_equal(buf, "/home/u/.config/x");
}

static void
t_home(void **st)
{
	struct passwd *pw = getpwuid(getuid());
	char buf[512];

	setenv("HOME", "/home/u", 1);
	assert_string_equal(xdg_home(XDG_ENV_HOME), "/home/u");
	setenv("HOME", "relative", 1);
	assert_null(xdg_home(XDG_ENV_HOME));
	assert_int_equal(xdg_path(buf, sizeof(buf), NULL, ".config", "x",
	    XDG_ENV_HOME), -1);
	unsetenv("HOME");
	assert_null(xdg_home(XDG_ENV_HOME));
	/* without the flag: the password database's */
	if (pw != NULL && pw->pw_dir[0] == '/')
		assert_string_equal(xdg_home(0), pw->pw_dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_path),
		cmocka_unit_test(t_home),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
