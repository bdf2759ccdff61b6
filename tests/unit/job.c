/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * lib/job.c against real local programs (/bin/sh, sleep): exit codes,
 * separate outputs, the cap, the time limit, the process group, and the
 * stepping API a server's poll loop uses.
 */
#include <sys/types.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "job.h"

#define SH(script)	((char *const []){ "/bin/sh", "-c", script, NULL })

static void
run(struct job *j, char *const argv[], int limit, size_t cap)
{
	struct sxerr e;

	if (job_run(j, argv, limit, cap, &e) != 0)
		fail_msg("job_run: %s", e.msg);
	assert_true(j->done);
	assert_int_equal(j->pid, 0);
}

/*
 * Nothing of process group (or process) id is left running. A killed
 * process whose parent was us is reaped by init, maybe later: a zombie
 * counts as gone.
 */
static int
running(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *fp;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	r = fgets(buf, sizeof(buf), fp) != NULL &&
	    (p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] != 'Z' &&
	    p[2] != 'X';
	fclose(fp);
	return r;
}

static void
assert_gone(pid_t id, int group)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (group ? kill(-id, 0) == -1 && errno == ESRCH :
		    !running(id))
			return;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	fail_msg("%s %d still there", group ? "group" : "pid", (int)id);
}

static void
test_exit_and_outputs(void **state)
{
	struct job j;

	run(&j, SH("echo out; echo err >&2; exit 3"), 5000, 1024);
	assert_int_equal(job_exit_code(&j), 3);
	assert_int_equal(job_signal(&j), 0);
	assert_string_equal(j.out.buf, "out\n");
	assert_string_equal(j.err.buf, "err\n");
	assert_false(j.out.truncated || j.err.truncated || j.timed_out);
	job_free(&j);

	run(&j, SH("kill -TERM $$"), 5000, 1024);
	assert_int_equal(job_exit_code(&j), -1);
	assert_int_equal(job_signal(&j), SIGTERM);
	assert_null(j.out.buf);
	job_free(&j);
}

/* stdin is /dev/null: a program that reads it ends at once. */
static void
test_stdin_null(void **state)
{
	struct job j;

	run(&j, ((char *const []){ "cat", NULL }), 5000, 1024);
	assert_int_equal(job_exit_code(&j), 0);
	assert_false(j.timed_out);
	job_free(&j);
}

static void
test_spawn_failure(void **state)
{
	struct sxerr e;
	struct job j;

	assert_int_equal(job_run(&j, ((char *const []){
	    "/nonexistent/prog", NULL }), 1000, 16, &e), -1);
	assert_int_equal(e.ex, EX_UNAVAILABLE);
	assert_non_null(strstr(e.msg, "/nonexistent/prog"));
	job_free(&j);
}

/*
 * Past the cap, output is read and dropped: 4 MiB (far more than a pipe
 * holds) still lets the child finish on its own, with exit 0.
 */
static void
test_cap(void **state)
{
	struct job j;

	run(&j, SH("head -c 4194304 /dev/zero; head -c 3000 /dev/zero >&2"),
	    20000, 1000);
	assert_int_equal(job_exit_code(&j), 0);
	assert_false(j.timed_out);
	assert_int_equal(j.out.len, 1000);
	assert_true(j.out.truncated);
	assert_int_equal(j.err.len, 1000);
	assert_true(j.err.truncated);
	job_free(&j);

	/* Exactly the cap is not truncated. */
	run(&j, SH("printf 1234567890"), 5000, 10);
	assert_int_equal(j.out.len, 10);
	assert_string_equal(j.out.buf, "1234567890");
	assert_false(j.out.truncated);
	job_free(&j);

	/* A cap of zero keeps nothing and says so. */
	run(&j, SH("echo x"), 5000, 0);
	assert_int_equal(j.out.len, 0);
	assert_true(j.out.truncated);
	job_free(&j);
}

/* The limit kills the child's whole group: a background child too. */
static void
test_limit_kills_group(void **state)
{
	struct job j;
	pid_t pg, bg;

	run(&j, SH("sleep 30 & echo $!; wait"), 300, 1024);
	assert_true(j.timed_out);
	assert_int_equal(job_signal(&j), SIGKILL);
	assert_true(j.ms >= 300 && j.ms < 5000);
	assert_non_null(j.out.buf);
	bg = (pid_t)atoi(j.out.buf);
	assert_true(bg > 0);
	assert_gone(bg, 0);
	job_free(&j);

	/* And the group of the child itself. */
	assert_int_equal(job_start(&j, SH("sleep 30"), 200, 16,
	    &(struct sxerr){ 0 }), 0);
	pg = j.pid;
	assert_int_equal(job_wait(&j, &(struct sxerr){ 0 }), 0);
	assert_true(j.timed_out);
	assert_gone(pg, 1);
	job_free(&j);
}

/*
 * A child that ends while a background child of its own still holds the
 * output pipe: the job ends with the child, not with the pipe, and the
 * one left behind in its group is killed.
 */
static void
test_leftover_killed(void **state)
{
	struct job j;
	pid_t bg;

	run(&j, SH("sleep 30 & echo $!"), 20000, 1024);
	assert_false(j.timed_out);
	assert_int_equal(job_exit_code(&j), 0);
	assert_true(j.ms < 10000);
	bg = (pid_t)atoi(j.out.buf);
	assert_true(bg > 0);
	assert_gone(bg, 0);
	job_free(&j);
}

/*
 * The stepping API: while the child runs, poll returns within
 * job_timeout, so a caller can serve others between steps.
 */
static void
test_stepping(void **state)
{
	struct pollfd pfd[JOB_NFDS];
	struct sxerr e;
	struct job j;
	int n, steps = 0, t;

	assert_int_equal(job_start(&j, SH("sleep 0.3; echo done"), 5000, 64,
	    &e), 0);
	assert_false(j.done);
	while (!j.done) {
		n = job_pollfds(&j, pfd, JOB_NFDS);
		assert_true(n >= 1 && n <= JOB_NFDS);
		t = job_timeout(&j);
		assert_true(t >= 0 && t <= 5000);
		/* The caller's own wait, shorter: it has others to serve. */
		poll(pfd, (nfds_t)n, t < 20 ? t : 20);
		assert_int_equal(job_step(&j, &e), 0);
		steps++;
	}
	assert_true(steps > 2);
	assert_string_equal(j.out.buf, "done\n");
	assert_int_equal(job_exit_code(&j), 0);
	assert_int_equal(job_pollfds(&j, pfd, JOB_NFDS), 0);
	assert_int_equal(job_timeout(&j), -1);
	job_free(&j);
}

/* job_cancel (a client's notifications/cancelled) ends it at once. */
static void
test_cancel(void **state)
{
	struct sxerr e;
	struct job j;
	pid_t pg;

	assert_int_equal(job_start(&j, SH("sleep 30"), 60000, 64, &e), 0);
	pg = j.pid;
	job_cancel(&j);
	assert_true(j.done && j.cancelled);
	assert_false(j.timed_out);
	assert_int_equal(j.pid, 0);
	assert_gone(pg, 1);
	job_free(&j);

	/* job_free of a running job cancels it too. */
	assert_int_equal(job_start(&j, SH("sleep 30"), 60000, 64, &e), 0);
	pg = j.pid;
	job_free(&j);
	assert_gone(pg, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_and_outputs),
		cmocka_unit_test(test_stdin_null),
		cmocka_unit_test(test_spawn_failure),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_limit_kills_group),
		cmocka_unit_test(test_leftover_killed),
		cmocka_unit_test(test_stepping),
		cmocka_unit_test(test_cancel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
