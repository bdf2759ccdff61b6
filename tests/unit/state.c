/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <signal.h>
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

#include "state.h"

static char dir[] = "/tmp/state-unit.XXXXXX";

static int
setup(void **state)
{
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char path[STATE_PATH];
	struct dirent *d;
	DIR *dp;

	if ((dp = opendir(dir)) != NULL) {
		while ((d = readdir(dp)) != NULL)
			if (d->d_name[0] != '.') {
				snprintf(path, sizeof(path), "%s/%s", dir,
				    d->d_name);
				unlink(path);
			}
		closedir(dp);
	}
	return rmdir(dir);
}

static int
nfiles(void)
{
	struct dirent *d;
	DIR *dp;
	int n = 0;

	assert_non_null(dp = opendir(dir));
	while ((d = readdir(dp)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dp);
	return n;
}

static void
test_roundtrip(void **state)
{
	struct tstate a, b;
	struct sxerr e;
	char path[STATE_PATH];

	assert_int_equal(state_path(path, sizeof(path), dir, "labbox",
	    ".state"), 0);
	memset(&a, 0, sizeof(a));
	strlcpy(a.state, "backoff", sizeof(a.state));
	a.pid = 4711;
	a.ssh_pid = 4712;
	a.since = 1700000000;
	a.up_since = 0;
	a.restarts = 3;
	strlcpy(a.reason, "port-busy", sizeof(a.reason));
	strlcpy(a.bastion, "u@[::1]:2200", sizeof(a.bastion));
	a.start = 123456789;
	a.ssh_start = 123456790;
	a.lock_dev = 2049;
	a.lock_ino = 77;
	a.ssh_dev = 1;
	a.ssh_ino = 4294967297ULL;
	assert_int_equal(state_write(path, &a, &e), 0);
	assert_int_equal(state_read(path, &b, &e), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	/* Replaced in place: no temporary file is left behind. */
	a.reason[0] = '\0';
	assert_int_equal(state_write(path, &a, &e), 0);
	assert_int_equal(state_read(path, &b, &e), 0);
	assert_string_equal(b.reason, "");
	assert_int_equal(nfiles(), 1);
	unlink(path);
	assert_int_equal(state_read(path, &b, &e), -1);
}

static void
test_lock(void **state)
{
	char path[STATE_PATH];
	struct sxerr e;
	int a, b;

	assert_int_equal(state_path(path, sizeof(path), dir, "labbox",
	    ".lock"), 0);
	assert_int_equal(state_lock(path, &a, &e), 0);
	assert_int_equal(state_lock(path, &b, &e), 1);
	close(a);
	assert_int_equal(state_lock(path, &b, &e), 0);
	close(b);
	unlink(path);
}

static void
test_pid_proof(void **state)
{
	char path[STATE_PATH], comm[64];
	unsigned long long start;
	struct sxerr e;
	pid_t pid;
	FILE *fp;

	assert_int_equal(state_proc(getpid(), comm, sizeof(comm), &start), 0);
	assert_int_equal(state_path(path, sizeof(path), dir, "labbox",
	    ".pid"), 0);
	assert_int_equal(state_pidfile_write(path, getpid(), &e), 0);
	assert_int_equal(state_pidfile_proven(path, comm, &pid), 1);
	assert_int_equal(pid, getpid());
	/* Another name, another start time (a reused pid): not ours. */
	assert_int_equal(state_pidfile_proven(path, "sshd", &pid), 0);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "%ld %llu\n", (long)getpid(), start + 1);
	fclose(fp);
	assert_int_equal(state_pidfile_proven(path, comm, &pid), 0);
	/* Junk, pid 1, a negative pid: never proven. */
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "1 %llu\n", start);
	fclose(fp);
	assert_int_equal(state_pidfile_proven(path, comm, &pid), 0);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "-5 0\n");
	fclose(fp);
	assert_int_equal(state_pidfile_proven(path, comm, &pid), 0);
	unlink(path);
	assert_int_equal(state_pidfile_proven(path, comm, &pid), 0);
}

/* A child of ours that waits for its signal. */
static pid_t
pauser(void)
{
	pid_t c;

	if ((c = fork()) == 0) {
		pause();
		_exit(0);
	}
	assert_true(c > 0);
	return c;
}

/* A child that runs, then a zombie, then gone: only the first counts. */
static void
test_proc_child(void **state)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	pid_t c;
	int st, i;

	c = pauser();
	assert_int_equal(state_proc_child(c, getpid()), 1);
	assert_int_equal(state_proc_child(c, getppid()), 0);
	assert_int_equal(state_proc_child(0, getpid()), 0);
	assert_int_equal(state_proc_child(-1, getpid()), 0);
	kill(c, SIGKILL);
	for (i = 0; i < 250 && state_proc_child(c, getpid()); i++)
		nanosleep(&ts, NULL);
	assert_int_equal(state_proc_child(c, getpid()), 0);
	assert_int_equal(waitpid(c, &st, 0), c);
	assert_int_equal(state_proc_child(c, getpid()), 0);
}

/*
 * What ssh-tunnel-ls proves from the table alone: a child that runs,
 * started when the table says, of the parent it names; then a zombie.
 */
static void
test_child_proven(void **state)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	unsigned long long start;
	struct pstat p;
	pid_t c;
	int st, i;

	c = pauser();
	assert_int_equal(state_pstat(c, &p), 0);
	assert_int_equal(p.ppid, getpid());
	start = p.start;
	assert_int_equal(state_child_proven(c, getpid(), start), 1);
	assert_int_equal(state_child_proven(c, getpid(), start + 1), 0);
	assert_int_equal(state_child_proven(c, getppid(), start), 0);
	assert_int_equal(state_child_proven(c, 1, start), 0);
	assert_int_equal(state_child_proven(0, getpid(), start), 0);
	assert_int_equal(state_proc(getpid(), NULL, 0, &start), 0);
	assert_int_equal(state_proven(getpid(), p.comm, start), 1);
	assert_int_equal(state_proven(getpid(), "sshd", start), 0);
	assert_int_equal(state_proven(getpid(), p.comm, start + 1), 0);
	assert_int_equal(state_proven(1, p.comm, start), 0);
	kill(c, SIGKILL);
	for (i = 0; i < 250 && state_pstat(c, &p) == 0 && p.state != 'Z'; i++)
		nanosleep(&ts, NULL);
	assert_int_equal(state_child_proven(c, getpid(), p.start), 0);
	assert_int_equal(waitpid(c, &st, 0), c);
	assert_int_equal(state_pstat(c, &p), -1);
}

/* logind's /run/user/UID of ours is there (then it is the fallback). */
static int
login_rundir(void)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/run/user/%lu", (unsigned long)getuid());
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == getuid() && (st.st_mode & 077) == 0;
}

static void
test_places(void **state)
{
	struct places p;
	struct sxerr e;

	setenv("HOME", "/home/u", 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("XDG_STATE_HOME");
	assert_int_equal(state_places_user(&p, &e), 0);
	assert_string_equal(p.defs, "/home/u/.config/scitex-ssh/tunnels.d");
	assert_int_equal(p.defsmode, 0700);
	/* Without XDG_RUNTIME_DIR, logind's directory where there is one. */
	if (!login_rundir())
		assert_string_equal(p.state, "/home/u/.local/state/scitex-ssh");
	setenv("XDG_STATE_HOME", "/s", 1);
	assert_int_equal(state_places_user(&p, &e), 0);
	if (!login_rundir())
		assert_string_equal(p.state, "/s/scitex-ssh");
	setenv("XDG_RUNTIME_DIR", "/run/user/1", 1);
	setenv("XDG_CONFIG_HOME", "/c", 1);
	assert_int_equal(state_places_user(&p, &e), 0);
	assert_string_equal(p.defs, "/c/scitex-ssh/tunnels.d");
	assert_string_equal(p.state, "/run/user/1/scitex-ssh");
	/* Relative XDG values are ignored, as the spec says. */
	setenv("XDG_RUNTIME_DIR", "rel", 1);
	assert_int_equal(state_places_user(&p, &e), 0);
	if (!login_rundir())
		assert_string_equal(p.state, "/s/scitex-ssh");
	assert_int_equal(state_places_system(&p, &e), 0);
	assert_string_equal(p.defs, "/etc/scitex-ssh/tunnels.d");
	assert_string_equal(p.state, "/run/scitex-ssh");
	/* /etc/scitex-ssh is readable to all, as /etc is */
	assert_int_equal(p.defsmode, 0755);
}

/* The directories asked for get their mode whatever the umask. */
static void
test_mkdir_mode(void **state)
{
	char path[STATE_PATH], sub[STATE_PATH];
	struct sxerr e;
	struct stat st;
	mode_t old = umask(077);

	snprintf(sub, sizeof(sub), "%s/etc", dir);
	snprintf(path, sizeof(path), "%s/etc/tunnels.d", dir);
	assert_int_equal(state_mkdir_mode(path, 0755, &e), 0);
	umask(old);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* what is there already is kept as it is */
	assert_int_equal(chmod(path, 0700), 0);
	assert_int_equal(state_mkdir_mode(path, 0755, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(sub), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_pid_proof),
		cmocka_unit_test(test_proc_child),
		cmocka_unit_test(test_child_proven),
		cmocka_unit_test(test_places),
		cmocka_unit_test(test_mkdir_mode),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
