/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * unit.c: the rendered templates equal the files shipped in systemd/,
 * hostile binary paths and names are refused, and the comparison with an
 * installed unit sees missing, equal and outdated files; the user unit's
 * drop-in for managers without user namespaces comes and goes.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit.h"

/* The source tree, wherever the test runs from (make passes it). */
#ifndef TOP
#define TOP "."
#endif

static char *
slurp(const char *path)
{
	FILE *f;
	char *buf;
	long n;

	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	assert_non_null(buf = calloc(1, (size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static void
shipped(enum unit_kind k, const char *path)
{
	struct sxerr e;
	char *want, *got, exec[128];

	want = slurp(path);
	assert_int_equal(unit_render(k, "/usr/local/bin/ssh-tunnel-up", &got,
	    &e), 0);
	assert_string_equal(got, want);
	snprintf(exec, sizeof(exec),
	    "\nExecStart=/usr/local/bin/ssh-tunnel-up -f %%i\n");
	assert_non_null(strstr(got, exec));
	free(got);
	free(want);
}

static void
t_shipped(void **st)
{
	shipped(UNIT_SYSTEM, TOP "/systemd/system/ssh-tunnel@.service");
	shipped(UNIT_USER, TOP "/systemd/user/ssh-tunnel@.service");
}

static void
t_system_keys(void **st)
{
	static const char *const want[] = { "\nRestart=always\n",
	    "\nRestartPreventExitStatus=78\n", "\nNoNewPrivileges=yes\n",
	    "\nProtectSystem=strict\n", "\nCapabilityBoundingSet=\n",
	    "\nRestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK\n",
	    "\nUMask=0077\n", "\nRuntimeDirectory=scitex-ssh\n",
	    "\nWantedBy=multi-user.target\n", "\nAfter=network-online.target\n",
	    "\nWants=network-online.target\n", NULL };
	struct sxerr e;
	char *u;
	size_t i;

	assert_int_equal(unit_render(UNIT_SYSTEM, "/opt/sx/bin/ssh-tunnel-up",
	    &u, &e), 0);
	for (i = 0; want[i] != NULL; i++)
		assert_non_null(strstr(u, want[i]));
	assert_null(strstr(u, "@BIN@"));
	free(u);
	assert_int_equal(unit_render(UNIT_USER, "/opt/sx/bin/ssh-tunnel-up",
	    &u, &e), 0);
	assert_non_null(strstr(u, "\nWantedBy=default.target\n"));
	free(u);
}

static void
t_bad_bin(void **st)
{
	static const char *const bad[] = { "", "ssh-tunnel-up", "./x",
	    "/usr/bin/ssh tunnel", "/usr/bin/x\n", "/usr/bin/%i", "/opt/$HOME",
	    "/opt/a\\b", "/opt/\"q\"", "/opt/'q'", "/opt/a;b", "/opt/\tx",
	    "/opt/../bin/x", "/opt/./x", "/opt/\xc3\xa9", NULL };
	struct sxerr e;
	char *u = (char *)1;
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		assert_int_equal(unit_render(UNIT_SYSTEM, bad[i], &u, &e), -1);
		assert_int_equal(e.ex, EX_DATAERR);
		assert_null(u);
	}
	assert_int_equal(unit_valid_bin(NULL, &e), -1);
	assert_int_equal(unit_valid_bin("/usr/local/bin/ssh-tunnel-up", &e), 0);
}

static void
t_instance(void **st)
{
	static const char *const bad[] = { "", "-x", ".x", "a b", "a/b", "a@b",
	    "a%i", "a\nb", "a\\x2d",
	    "a1234567890123456789012345678901234567890123456789012345678901234",
	    NULL };
	struct sxerr e;
	char buf[128];
	size_t i;

	assert_int_equal(unit_instance("labbox", buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "ssh-tunnel@labbox.service");
	assert_int_equal(unit_instance("Lab-1.x_y", buf, sizeof(buf), &e), 0);
	for (i = 0; bad[i] != NULL; i++) {
		assert_int_equal(unit_instance(bad[i], buf, sizeof(buf), &e), -1);
		assert_int_equal(e.ex, EX_DATAERR);
	}
	assert_int_equal(unit_instance("labbox", buf, 10, &e), -1);
}

static void
t_dir(void **st)
{
	struct sxerr e;
	char buf[256];

	assert_int_equal(unit_dir(UNIT_SYSTEM, buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "/etc/systemd/system");
	setenv("HOME", "/home/u", 1);
	setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
	assert_int_equal(unit_dir(UNIT_USER, buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "/x/cfg/systemd/user");
	setenv("XDG_CONFIG_HOME", "relative", 1);
	assert_int_equal(unit_dir(UNIT_USER, buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "/home/u/.config/systemd/user");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HOME");
	assert_int_equal(unit_dir(UNIT_USER, buf, sizeof(buf), &e), -1);
	assert_int_equal(e.ex, EX_CONFIG);
}

static void
t_current(void **st)
{
	char dir[] = "/tmp/unit-test.XXXXXX", path[256];
	struct sxerr e;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/u.service", dir);
	assert_int_equal(unit_current(path, "abc\n", &e), 0);
	assert_non_null(f = fopen(path, "w"));
	fputs("abc\n", f);
	fclose(f);
	assert_int_equal(unit_current(path, "abc\n", &e), 1);
	assert_int_equal(unit_current(path, "abc\nd\n", &e), 0);
	assert_int_equal(unit_current(path, "ab", &e), 0);
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(unit_current(path, "abc\n", &e), -1);
	rmdir(path);
	rmdir(dir);
}

/* The drop-in for a manager without user namespaces: written once,
 * kept as it is, removed when they are there again. */
static void
t_userns_dropin(void **st)
{
	char dir[] = "/tmp/unit-test.XXXXXX", path[256], *text;
	struct sxerr e;
	int changed;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s.d/%s", dir, UNIT_TEMPLATE,
	    UNIT_NO_USERNS);
	assert_int_equal(unit_userns_dropin(dir, 1, &changed, &e), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(unit_userns_dropin(dir, 0, &changed, &e), 0);
	assert_int_equal(changed, 1);
	text = slurp(path);
	assert_non_null(strstr(text, "\nPrivateUsers=no\n"));
	assert_non_null(strstr(text, "\nProtectSystem=no\n"));
	assert_non_null(strstr(text, "\nBindPaths=\n"));
	free(text);
	assert_int_equal(unit_userns_dropin(dir, 0, &changed, &e), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(unit_userns_dropin(dir, 1, &changed, &e), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/%s.d", dir, UNIT_TEMPLATE);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_shipped),
		cmocka_unit_test(t_system_keys),
		cmocka_unit_test(t_bad_bin),
		cmocka_unit_test(t_instance),
		cmocka_unit_test(t_dir),
		cmocka_unit_test(t_current),
		cmocka_unit_test(t_userns_dropin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
