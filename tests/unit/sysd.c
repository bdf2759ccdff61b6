/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * sysd.c: what the systemd backends do without a running systemd: the
 * refusal, the template installed once and rewritten when it differs,
 * enablement seen from its link, and scitex-ssh 1.0's units' state and
 * removal (only links that point at the unit go with it).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "autossh.h"
#include "sysd.h"

static char top[] = "/tmp/sysd-test.XXXXXX";
static char udir[256];

static int
booted(void)
{
	struct stat st;

	return stat("/run/systemd/system", &st) == 0;
}

static void
put(const char *path, const char *text)
{
	FILE *f;

	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static int
setup(void **st)
{
	char cfg[64];

	assert_non_null(mkdtemp(top));
	snprintf(cfg, sizeof(cfg), "%s/cfg", top);
	setenv("XDG_CONFIG_HOME", cfg, 1);
	setenv("HOME", top, 1);
	snprintf(udir, sizeof(udir), "%s/cfg/systemd/user", top);
	return 0;
}

static int
teardown(void **st)
{
	char *const argv[] = { "rm", "-rf", top, NULL };
	pid_t pid;
	int status;

	if ((pid = fork()) == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid ? 0 : -1;
}

static void
t_unavailable(void **st)
{
	struct sxerr e;

	if (booted())
		skip();
	assert_int_equal(sysd_available(UNIT_SYSTEM, &e), -1);
	assert_int_equal(e.ex, EX_UNAVAILABLE);
	assert_non_null(strstr(e.msg, "not the init system"));
	assert_int_equal(sysd_available(UNIT_USER, &e), -1);
	assert_int_equal(e.ex, EX_UNAVAILABLE);
	assert_int_equal(sysd_stop(UNIT_USER, "labbox", &e), 0);
	assert_int_equal(sysd_stop(UNIT_USER, "bad name", &e), -1);
}

static void
t_install(void **st)
{
	char path[512], *want;
	struct sxerr e;
	int changed;

	snprintf(path, sizeof(path), "%s/ssh-tunnel@.service", udir);
	assert_int_equal(unit_install(UNIT_USER, udir, "/opt/x/ssh-tunnel-up",
	    &changed, &e), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(unit_render(UNIT_USER, "/opt/x/ssh-tunnel-up", &want,
	    &e), 0);
	assert_int_equal(unit_current(path, want, &e), 1);
	assert_int_equal(unit_install(UNIT_USER, udir, "/opt/x/ssh-tunnel-up",
	    &changed, &e), 0);
	assert_int_equal(changed, 0);
	/* another binary, or a hand edit: written again */
	assert_int_equal(unit_install(UNIT_USER, udir, "/opt/y/ssh-tunnel-up",
	    &changed, &e), 0);
	assert_int_equal(changed, 1);
	put(path, "[Service]\nExecStart=/bin/sh -c evil\n");
	assert_int_equal(unit_install(UNIT_USER, udir, "/opt/x/ssh-tunnel-up",
	    &changed, &e), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(unit_current(path, want, &e), 1);
	free(want);
	assert_int_equal(unit_install(UNIT_USER, udir, "relative/bin",
	    &changed, &e), -1);
	assert_int_equal(e.ex, EX_DATAERR);
}

static void
t_enabled(void **st)
{
	char dir[512], link[600];

	assert_int_equal(sysd_enabled(UNIT_USER, "labbox"), 0);
	snprintf(dir, sizeof(dir), "%s/default.target.wants", udir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(link, sizeof(link), "%s/ssh-tunnel@labbox.service", dir);
	assert_int_equal(symlink("../ssh-tunnel@.service", link), 0);
	assert_int_equal(sysd_enabled(UNIT_USER, "labbox"), 1);
	assert_int_equal(sysd_enabled(UNIT_USER, "other"), 0);
	assert_int_equal(sysd_enabled(UNIT_USER, "../x"), 0);
}

/* The wants directory read once gives sysd_enabled's answers. */
static void
t_wants(void **st)
{
	char dir[512], link[600];
	struct sysd_wants w;

	snprintf(dir, sizeof(dir), "%s/default.target.wants", udir);
	(void)mkdir(dir, 0700);
	snprintf(link, sizeof(link), "%s/ssh-tunnel@zeta.service", dir);
	assert_int_equal(symlink("../ssh-tunnel@.service", link), 0);
	/* labbox's, from t_enabled. */
	snprintf(link, sizeof(link), "%s/other.service", dir);
	assert_int_equal(symlink("../other.service", link), 0);
	assert_int_equal(sysd_wants_read(UNIT_USER, &w), 0);
	assert_int_equal(w.n, 2);
	assert_int_equal(sysd_wants_has(&w, "labbox"), 1);
	assert_int_equal(sysd_wants_has(&w, "zeta"), 1);
	assert_int_equal(sysd_wants_has(&w, "other"), 0);
	assert_int_equal(sysd_wants_has(&w, "../x"), 0);
	assert_int_equal(sysd_wants_has(&w, "lab"), 0);
	sysd_wants_free(&w);
	assert_int_equal(w.n, 0);
	unlink(link);
	snprintf(link, sizeof(link), "%s/ssh-tunnel@zeta.service", dir);
	unlink(link);
	assert_int_equal(sysd_wants_read(UNIT_USER, &w), 0);
	assert_int_equal(w.n, 1);
	sysd_wants_free(&w);
}

static void
t_legacy(void **st)
{
	char path[512], wants[512], mine[600], other[600];
	struct tstate ts;
	struct legacy l;
	struct sxerr e;

	snprintf(path, sizeof(path), "%s/autossh-tunnel-2222.service", udir);
	put(path, "[Service]\nExecStart=/usr/bin/autossh -M 0 -N "
	    "-R 2222:localhost:22 u@gw.example.org\n");
	snprintf(wants, sizeof(wants), "%s/multi-user.target.wants", udir);
	assert_int_equal(mkdir(wants, 0700), 0);
	snprintf(mine, sizeof(mine), "%s/autossh-tunnel-2222.service", wants);
	assert_int_equal(symlink(path, mine), 0);
	/* a link of the same name elsewhere that points at another file */
	snprintf(other, sizeof(other), "%s/default.target.wants/"
	    "autossh-tunnel-2222.service", udir);
	assert_int_equal(symlink("/etc/hosts", other), 0);

	assert_int_equal(legacy_find(2222, &l, &e), 0);
	assert_int_equal(l.user_unit, 1);
	if (!booted()) {
		autossh_state(&l, &ts);
		assert_string_equal(ts.state, "stopped");
		assert_string_equal(ts.reason, "no-systemd");
		strlcpy(l.problem, "x", sizeof(l.problem));
		autossh_state(&l, &ts);
		assert_string_equal(ts.state, "failed");
		assert_string_equal(ts.reason, "unreadable");
		l.problem[0] = '\0';
		assert_int_equal(autossh_stop(&l, 0, &e), 0);
		assert_int_equal(autossh_remove(&l, &e), 0);
		assert_int_equal(access(path, F_OK), -1);
		assert_int_equal(access(mine, F_OK), -1);
		assert_int_equal(unlink(other), 0);	/* left alone */
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_unavailable),
		cmocka_unit_test(t_install),
		cmocka_unit_test(t_enabled),
		cmocka_unit_test(t_wants),
		cmocka_unit_test(t_legacy),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
