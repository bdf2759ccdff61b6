/* SPDX-License-Identifier: AGPL-3.0-only */
/* Running programs with an argv: capture, deadlines, detach, stop. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "now.h"
#include "spawn.h"

static void
capture(struct capture *c, char *out, size_t osz, char *err, size_t esz)
{
	memset(c, 0, sizeof(*c));
	c->out = out;
	c->outsz = osz;
	c->err = err;
	c->errsz = esz;
	c->timeout_ms = 5000;
}

static void
t_capture(void **st)
{
	char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	char out[64], err[64];
	struct capture c;
	struct sxerr e;

	capture(&c, out, sizeof(out), err, sizeof(err));
	assert_int_equal(spawn_capture(argv, &c, &e), 0);
	assert_string_equal(out, "out\n");
	assert_string_equal(err, "err\n");
	assert_true(WIFEXITED(c.status));
	assert_int_equal(WEXITSTATUS(c.status), 3);
}

/* More than fits: kept NUL-terminated, the rest read and dropped. */
static void
t_small(void **st)
{
	char *argv[] = { "sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x",
	    NULL };
	char out[8], err[8];
	struct capture c;
	struct sxerr e;

	capture(&c, out, sizeof(out), err, sizeof(err));
	assert_int_equal(spawn_capture(argv, &c, &e), 0);
	assert_string_equal(out, "xxxxxxx");
	assert_int_equal(WEXITSTATUS(c.status), 0);
}

/* A child that outlives the deadline is stopped: status -1. */
static void
t_timeout(void **st)
{
	char *argv[] = { "sleep", "30", NULL };
	char out[8], err[8];
	struct capture c;
	struct sxerr e;
	long long t0 = now_ms();

	capture(&c, out, sizeof(out), err, sizeof(err));
	c.timeout_ms = 200;
	assert_int_equal(spawn_capture(argv, &c, &e), 0);
	assert_int_equal(c.status, -1);
	assert_true(now_ms() - t0 < 5000);
}

/* until: done as soon as stdout holds it, the rest not waited for. */
static void
t_until(void **st)
{
	char *argv[] = { "sh", "-c", "echo SSH-2.0-x; exec sleep 30", NULL };
	char out[64], err[8];
	struct capture c;
	struct sxerr e;
	long long t0 = now_ms();

	capture(&c, out, sizeof(out), err, sizeof(err));
	c.until = "\n";
	assert_int_equal(spawn_capture(argv, &c, &e), 0);
	assert_string_equal(out, "SSH-2.0-x\n");
	assert_true(now_ms() - t0 < 5000);
}

static void
t_missing(void **st)
{
	char *argv[] = { "/nonexistent/program", NULL };
	char out[8], err[8];
	struct capture c;
	struct sxerr e;

	capture(&c, out, sizeof(out), err, sizeof(err));
	assert_int_equal(spawn_capture(argv, &c, &e), -1);
	assert_int_equal(e.ex, EX_UNAVAILABLE);
	assert_non_null(strstr(e.msg, "/nonexistent/program"));
}

/*
 * Detached: its own session, stderr to the file, the fd as its fd 3, and
 * no other fd of ours (one left without close-on-exec on purpose).
 */
static void
t_detached(void **st)
{
	char dir[] = "/tmp/spawn-unit-XXXXXX", log[64], buf[256], num[16];
	char *argv[] = { "/bin/sh", "-c", "echo sid $(ps -o sid= -p $$) "
	    "pid $$ >&2; cat <&3 >&2; if [ -e /proc/$$/fd/$1 ]; then "
	    "echo fd $1 open >&2; else echo fd $1 closed >&2; fi", "sh", num,
	    NULL };
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	struct sxerr e;
	pid_t pid;
	ssize_t n;
	int p[2], fd, i, status, extra;

	assert_non_null(mkdtemp(dir));
	snprintf(log, sizeof(log), "%s/log", dir);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "fd3\n", 4), 4);
	close(p[1]);
	assert_int_not_equal((fd = open("/dev/null", O_RDONLY)), -1);
	assert_true((extra = fcntl(fd, F_DUPFD, 10)) >= 10);
	close(fd);
	snprintf(num, sizeof(num), "%d", extra);
	assert_int_equal(spawn_detached(argv, log, p[0], &pid, &e), 0);
	close(p[0]);
	close(extra);
	for (i = 0; i < 250 && waitpid(pid, &status, WNOHANG) == 0; i++)
		nanosleep(&ts, NULL);
	assert_true(WIFEXITED(status));
	assert_int_not_equal((fd = open(log, O_RDONLY)), -1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	/* session id == its pid: a session leader of its own */
	snprintf(log, sizeof(log), "pid %ld\n", (long)pid);
	assert_non_null(strstr(buf, log));
	assert_non_null(strstr(buf, "fd3\n"));
	snprintf(log, sizeof(log), "fd %d closed\n", extra);
	assert_non_null(strstr(buf, log));
	snprintf(log, sizeof(log), "%s/log", dir);
	unlink(log);
	rmdir(dir);
}

/* Whether /proc/PID/comm is NAME: the child has exec'd it. */
static int
comm_is(pid_t pid, const char *name)
{
	char path[64], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return strcmp(buf, name) == 0;
}

/* Tied: stopped by spawn_stop with SIGTERM, SIGKILL after the wait. */
static void
t_tied_stop(void **st)
{
	/* SIG_IGN survives the exec: sleep ignores SIGTERM, leaves no child */
	char *argv[] = { "sh", "-c", "trap '' TERM; exec sleep 30", NULL };
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct sxerr e;
	long long t0;
	pid_t pid;
	int i;

	assert_int_equal(spawn_tied(argv, -1, -1, &pid, &e), 0);
	/* the trap set and the exec done: comm is "sleep" (up to 10 s) */
	for (i = 0; i < 1000 && !comm_is(pid, "sleep"); i++)
		nanosleep(&ts, NULL);
	t0 = now_ms();
	spawn_stop(pid, 300);
	assert_true(now_ms() - t0 >= 250);
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	spawn_stop(0, 10);	/* nothing to stop */
}

static int
reaped(pid_t pid, void *arg)
{
	int *st = arg;

	return waitpid(pid, st, WNOHANG) == pid;
}

/* A tied child, started with SIGTERM ignored (ign) or not, exec'ed. */
static pid_t
sleeper(int ign)
{
	char *hard[] = { "sh", "-c", "trap '' TERM; exec sleep 30", NULL };
	char *soft[] = { "sleep", "30", NULL };
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct sxerr e;
	pid_t pid;
	int i;

	assert_int_equal(spawn_tied(ign ? hard : soft, -1, -1, &pid, &e), 0);
	for (i = 0; i < 1000 && !comm_is(pid, "sleep"); i++)
		nanosleep(&ts, NULL);
	return pid;
}

/*
 * spawn_end, with a pidfd and without (the poll of gone()): SIGTERM
 * obeyed at once; SIGKILL after the wait when it is ignored; the reaped
 * one not signalled again.
 */
static void
t_end(void **st)
{
	long long t0;
	pid_t pid;
	int ws, fd, pidfd;

	for (pidfd = 0; pidfd < 2; pidfd++) {
		pid = sleeper(0);
		fd = pidfd ? spawn_pidfd(pid) : -1;
		ws = -1;
		t0 = now_ms();
		assert_int_equal(spawn_end(pid, fd, 5000, reaped, &ws), 0);
		assert_true(now_ms() - t0 < 2500);
		if (ws == -1)
			assert_int_equal(waitpid(pid, &ws, 0), pid);
		assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGTERM);

		pid = sleeper(1);
		fd = pidfd ? spawn_pidfd(pid) : -1;
		ws = -1;
		t0 = now_ms();
		assert_int_equal(spawn_end(pid, fd, 300, reaped, &ws), 0);
		assert_true(now_ms() - t0 >= 250);
		assert_int_equal(waitpid(pid, &ws, 0), pid);
		assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
		if (fd != -1)
			close(fd);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_capture),
		cmocka_unit_test(t_small),
		cmocka_unit_test(t_timeout),
		cmocka_unit_test(t_until),
		cmocka_unit_test(t_missing),
		cmocka_unit_test(t_detached),
		cmocka_unit_test(t_tied_stop),
		cmocka_unit_test(t_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
