/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * The backend seam without a manager: which backends -m may name, the
 * tunnels each lists (tunnels.d, the config file, scitex-ssh 1.0's units)
 * in their order, lookups, loads and the state of a tunnel never started;
 * a supervisor proven alive by its lock in /proc/locks.
 */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

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

#include "backend.h"

static char top[] = "/tmp/backend-unit-XXXXXX";
static char conf[128];
static const char *made[8];
static char paths[8][256];
static size_t nmade;

static const char def[] = "bastion: u@gw.example.org\n"
    "forwards: [R 2200:localhost:22]\n";

static void
put(const char *rel, const char *text)
{
	FILE *fp;

	snprintf(paths[nmade], sizeof(paths[0]), "%s/%s", top, rel);
	assert_non_null(fp = fopen(paths[nmade], "w"));
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	made[nmade] = paths[nmade];
	nmade++;
}

static void
dir(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	assert_int_equal(mkdir(p, 0700), 0);
}

static int
setup(void **state)
{
	if (mkdtemp(top) == NULL)
		return -1;
	setenv("HOME", top, 1);
	setenv("XDG_CONFIG_HOME", top, 1);
	setenv("XDG_RUNTIME_DIR", top, 1);
	unsetenv("SCITEX_SSH_CONFIG");
	dir("scitex-ssh");
	dir("scitex-ssh/tunnels.d");
	dir("systemd");
	dir("systemd/user");
	put("scitex-ssh/tunnels.d/b.yaml", def);
	put("scitex-ssh/tunnels.d/a.yaml", def);
	put("scitex-ssh/tunnels.d/bad name.yaml", def);	/* not a name */
	put("systemd/user/autossh-tunnel-2222.service", "[Service]\n"
	    "ExecStart=/usr/bin/autossh -M 0 -N -R 2222:localhost:22 "
	    "u@gw.example.org\n");
	put("conf.yaml", "tunnels:\n"
	    "  c: {bastion: u@gw.example.org, forwards: [R 2300:h:22]}\n"
	    "  a: {bastion: u@gw.example.org, forwards: [R 2301:h:22]}\n");
	snprintf(conf, sizeof(conf), "%s/conf.yaml", top);
	return 0;
}

static int
teardown(void **state)
{
	static const char *const dirs[] = { "systemd/user", "systemd",
	    "scitex-ssh/tunnels.d", "scitex-ssh", "scitex-ssh" };
	char p[256];
	size_t i;

	for (i = 0; i < nmade; i++)
		unlink(made[i]);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", top, dirs[i]);
		rmdir(p);
	}
	return rmdir(top);
}

static void
t_find(void **state)
{
	static const char *const names[] = { "systemd", "user", "daemon" };
	const struct backend *b;
	struct sxerr e;
	size_t i;

	for (i = 0; i < 3; i++) {
		assert_non_null(b = backend_find(names[i], &e));
		assert_string_equal(b->name, names[i]);
		assert_true(b->defines);
	}
	/* 1.0's units are adopted, never a backend to start anew with */
	assert_null(backend_find("autossh", &e));
	assert_int_equal(e.ex, EX_USAGE);
	assert_string_equal(e.msg, "autossh: no such backend (systemd, "
	    "user, daemon)");
	assert_null(backend_find("nope", &e));
	assert_non_null(b = backend_pick(&e));	/* daemon works anywhere */
	assert_true(b->defines);
}

static void
t_list(void **state)
{
	struct config *cf;
	struct tref *v;
	struct sxerr e;
	size_t n;

	assert_int_equal(config_open(conf, &cf, &e), 0);
	assert_int_equal(backend_list(cf, BL_DEFINED, &v, &n, &e), 0);
	/* sorted; the user's a.yaml overrides the file's a; no "bad name" */
	assert_int_equal(n, 3);
	assert_string_equal(v[0].name, "a");
	assert_false(v[0].in_config);
	assert_string_equal(v[1].name, "b");
	assert_string_equal(v[2].name, "c");
	assert_true(v[2].in_config);
	assert_int_equal(v[2].line, 2);
	assert_string_equal(v[2].path, conf);
	assert_string_equal(v[0].b->name, "daemon");
	free(v);

	/* then the units of other tools, after the sorted ones */
	assert_int_equal(backend_list(cf, BL_DEFINED | BL_OTHERS, &v, &n, &e),
	    0);
	assert_int_equal(n, 4);
	assert_string_equal(v[3].name, "autossh-tunnel-2222");
	assert_string_equal(v[3].b->name, "autossh");
	assert_false(v[3].b->defines);
	assert_int_equal(v[3].port, 2222);
	assert_non_null(strstr(v[3].path, "/systemd/user/"
	    "autossh-tunnel-2222.service"));
	free(v);
	assert_int_equal(backend_list(cf, BL_OTHERS, &v, &n, &e), 0);
	assert_int_equal(n, 1);
	free(v);
	config_free(cf);
}

static void
t_lookup_load(void **state)
{
	static struct tunnel t;
	struct config *cf;
	struct tstate st;
	struct tref r;
	struct sxerr e;

	assert_int_equal(config_open(conf, &cf, &e), 0);
	assert_int_equal(backend_lookup(cf, "c", &r, &e), 0);
	assert_int_equal(backend_load(cf, &r, &t, &e), 0);
	assert_int_equal(t.fwd[0].port, 2300);
	assert_int_equal(backend_lookup(cf, "a", &r, &e), 0);
	assert_int_equal(backend_load(cf, &r, &t, &e), 0);
	assert_int_equal(t.fwd[0].port, 2200);
	assert_int_equal(backend_lookup(cf, "zzz", &r, &e), 1);
	/* never started: stopped, no pid, no reason */
	assert_int_equal(backend_lookup(cf, "b", &r, &e), 0);
	backend_status(&r, NULL, &st);
	assert_string_equal(st.state, "stopped");
	assert_int_equal(st.pid, 0);
	assert_string_equal(st.reason, "");
	config_free(cf);
}

static void
t_autossh(void **state)
{
	static struct tunnel t;
	struct tstate st;
	struct tref r;
	struct sxerr e;

	assert_int_equal(backend_autossh(1, &r, &e), -1);
	assert_int_equal(e.ex, EX_UNAVAILABLE);
	assert_non_null(strstr(e.msg, "autossh-tunnel-1.service: no such "
	    "unit"));
	assert_int_equal(backend_autossh(2222, &r, &e), 0);
	assert_string_equal(r.name, "autossh-tunnel-2222");
	assert_int_equal(backend_load(NULL, &r, &t, &e), 0);
	assert_string_equal(t.name, "autossh-tunnel-2222");
	assert_int_equal(t.nfwd, 1);
	assert_int_equal(t.fwd[0].port, 2222);
	/* loaded under another name, as --adopt does */
	strlcpy(r.name, "labbox", sizeof(r.name));
	assert_int_equal(backend_load(NULL, &r, &t, &e), 0);
	assert_string_equal(t.name, "labbox");
	backend_status(&r, NULL, &st);
	assert_true(strcmp(st.state, "stopped") == 0 ||
	    strcmp(st.state, "failed") == 0);
	/* its own unit, not one of ours: there is nothing of it to start */
	assert_int_equal(r.b->available(r.b, &e), -1);
	assert_int_equal(e.ex, EX_USAGE);
}

/* A pid that was a process's, reaped. */
static pid_t
reaped(void)
{
	pid_t p;

	if ((p = fork()) == 0)
		_exit(0);
	assert_true(p > 0);
	assert_int_equal(waitpid(p, NULL, 0), p);
	return p;
}

/* b's lock file made, open (not locked), its identity in sb. */
static int
lock_file(struct stat *sb)
{
	char lock[256];
	int fd;

	put("scitex-ssh/b.lock", "");
	snprintf(lock, sizeof(lock), "%s/scitex-ssh/b.lock", top);
	assert_true((fd = open(lock, O_RDWR)) != -1);
	assert_int_equal(fstat(fd, sb), 0);
	return fd;
}

/* r's row with the locks held right now. */
static void
status_now(const struct tref *r, struct tstate *st)
{
	struct held h;

	assert_int_equal(held_load("/proc/locks", &h), 0);
	backend_status(r, &h, st);
	held_free(&h);
}

/*
 * A table whose writer is gone (a pid reaped): failed, unless the lock it
 * names is listed as held (an ssh-tunnel-up at work on it holds it so)
 * when the list is given; a lock let go, or no list, proves nothing.
 */
static void
t_held(void **state)
{
	struct config *cf;
	struct tstate st;
	struct stat sb;
	struct tref r;
	struct sxerr e;
	char text[256];
	pid_t dead = reaped();
	int fd;

	fd = lock_file(&sb);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	snprintf(text, sizeof(text), "state connecting\npid %ld\nstart 1\n"
	    "reason throttled\nlock_dev %llu\nlock_ino %llu\n", (long)dead,
	    (unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino);
	put("scitex-ssh/b.state", text);

	assert_int_equal(config_open(conf, &cf, &e), 0);
	assert_int_equal(backend_lookup(cf, "b", &r, &e), 0);
	status_now(&r, &st);
	assert_string_equal(st.state, "connecting");
	assert_string_equal(st.reason, "throttled");
	assert_int_equal(st.pid, dead);
	backend_status(&r, NULL, &st);
	assert_string_equal(st.state, "failed");
	assert_int_equal(st.pid, 0);

	assert_int_equal(close(fd), 0);
	status_now(&r, &st);
	assert_string_equal(st.state, "failed");
	assert_string_equal(st.reason, "throttled");
	unlink(made[--nmade]);
	unlink(made[--nmade]);
	config_free(cf);
}

/*
 * An up table proven by locks alone: its ssh's (a memfd here) and the
 * tunnel's both listed. Either let go, and the row is proven as before:
 * its ssh reaped, the table's writer too, so not up.
 */
static void
t_ssh_lock(void **state)
{
	struct config *cf;
	struct tstate st;
	struct stat sb, lb;
	struct tref r;
	struct sxerr e;
	char text[256];
	pid_t dead = reaped();
	int fd, mfd;

	assert_true((mfd = memfd_create("t", MFD_CLOEXEC)) != -1);
	assert_int_equal(flock(mfd, LOCK_EX), 0);
	assert_int_equal(fstat(mfd, &sb), 0);
	fd = lock_file(&lb);
	snprintf(text, sizeof(text), "state up\npid %ld\nssh_pid %ld\n"
	    "start 1\nssh_start 1\nssh_dev %llu\nssh_ino %llu\n"
	    "lock_dev %llu\nlock_ino %llu\n", (long)dead, (long)dead,
	    (unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino,
	    (unsigned long long)lb.st_dev, (unsigned long long)lb.st_ino);
	put("scitex-ssh/b.state", text);
	assert_int_equal(config_open(conf, &cf, &e), 0);
	assert_int_equal(backend_lookup(cf, "b", &r, &e), 0);

	/* ssh's lock without the tunnel's: a table of another time */
	status_now(&r, &st);
	assert_string_equal(st.state, "failed");

	assert_int_equal(flock(fd, LOCK_EX), 0);
	status_now(&r, &st);
	assert_string_equal(st.state, "up");
	assert_int_equal(st.ssh_pid, dead);
	/* no list: the processes, which are gone */
	backend_status(&r, NULL, &st);
	assert_string_equal(st.state, "failed");

	/* ssh's lock let go (it exited): not up, at once */
	assert_int_equal(close(mfd), 0);
	status_now(&r, &st);
	assert_string_equal(st.state, "connecting");
	assert_int_equal(st.ssh_pid, 0);

	assert_int_equal(close(fd), 0);
	unlink(made[--nmade]);
	unlink(made[--nmade]);
	config_free(cf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_find),
		cmocka_unit_test(t_list),
		cmocka_unit_test(t_lookup_load),
		cmocka_unit_test(t_autossh),
		cmocka_unit_test(t_held),
		cmocka_unit_test(t_ssh_lock),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
