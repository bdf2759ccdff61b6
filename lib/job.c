/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job.h"
#include "now.h"
#include "spawn.h"

extern char **environ;

static void
closefd(int *fd)
{
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

/*
 * Start argv: stdin /dev/null, stdout and stderr to pipes we read without
 * blocking, its own process group, default signal dispositions. A pidfd
 * (Linux 5.3) makes the child's end something poll(2) sees; without one
 * job_timeout() keeps the caller's poll short and job_step() asks waitid.
 */
int
job_start(struct job *j, char *const argv[], int limit_ms, size_t cap,
    struct sxerr *e)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t a;
	int p[2][2], *out = p[0], *err = p[1], rc;

	memset(j, 0, sizeof(*j));
	j->fd[0] = j->fd[1] = j->fd[2] = -1;
	j->cap = cap;
	if (spawn_pipe_set(p, 2, e) == -1)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	spawn_attr_init(&a, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&a, 0);
	j->start = now_ms();
	rc = posix_spawnp(&j->pid, argv[0], &fa, &a, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&a);
	close(out[1]), close(err[1]);
	if (rc != 0) {
		close(out[0]), close(err[0]);
		j->pid = 0;
		errno = rc;
		return sxerr_errno(e, EX_UNAVAILABLE, "%s", argv[0]);
	}
	j->fd[0] = out[0];
	j->fd[1] = err[0];
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	j->fd[2] = (int)syscall(SYS_pidfd_open, j->pid, 0);
	j->deadline = j->start + (limit_ms > 0 ? limit_ms : INT_MAX);
	return 0;
}

/* The fds to poll for POLLIN while the job runs; how many were filled. */
int
job_pollfds(const struct job *j, struct pollfd *pfd, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < JOB_NFDS && k < n; i++) {
		if (j->done || j->fd[i] == -1)
			continue;
		pfd[k].fd = j->fd[i];
		pfd[k].events = POLLIN;
		pfd[k].revents = 0;
		k++;
	}
	return (int)k;
}

/* Milliseconds the caller's poll may sleep before job_step is due. */
int
job_timeout(const struct job *j)
{
	long long left;

	if (j->done)
		return -1;
	left = j->deadline - now_ms();
	if (left < 0)
		left = 0;
	/* No pidfd: look for the child's end now and then. */
	if (j->fd[2] == -1 && left > 50)
		left = 50;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Keep what fits under the cap, count the rest as truncated. */
static int
keep(struct jobout *o, const char *p, size_t n, size_t cap,
    struct sxerr *e)
{
	size_t room = o->len < cap ? cap - o->len : 0;
	char *nb;

	if (n > room) {
		o->truncated = 1;
		n = room;
	}
	if (n == 0)
		return 0;
	if ((nb = realloc(o->buf, o->len + n + 1)) == NULL)
		return sxerr_errno(e, EX_OSERR, "output buffer");
	o->buf = nb;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	o->buf[o->len] = '\0';
	return 0;
}

/* Read what fd i has now; closes it at end of file. */
static int
drain(struct job *j, int i, struct sxerr *e)
{
	char buf[65536];
	ssize_t n;

	while (j->fd[i] != -1) {
		n = read(j->fd[i], buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			closefd(&j->fd[i]);
			return n == 0 ? 0 : sxerr_errno(e, EX_OSERR, "read");
		}
		if (keep(i == 0 ? &j->out : &j->err, buf, (size_t)n, j->cap,
		    e) == -1)
			return -1;
	}
	return 0;
}

/*
 * The end: whatever is left of the child's group is killed (the child
 * itself too when by_us), what it wrote before is read, and it is reaped.
 * Its pid stays ours until waitpid, so the group cannot be another's.
 */
static int
finish(struct job *j, int by_us, struct sxerr *e)
{
	int rc = 0, st;

	kill(-j->pid, SIGKILL);
	if (by_us)
		kill(j->pid, SIGKILL);	/* in case it left its group */
	while (waitpid(j->pid, &st, 0) == -1)
		if (errno != EINTR) {
			st = -1;
			rc = sxerr_errno(e, EX_OSERR, "waitpid");
			break;
		}
	j->pid = 0;
	j->status = st;
	if (drain(j, 0, e) == -1 || drain(j, 1, e) == -1)
		rc = -1;
	closefd(&j->fd[0]);
	closefd(&j->fd[1]);
	closefd(&j->fd[2]);
	j->ms = now_ms() - j->start;
	j->done = 1;
	return rc;
}

/*
 * After poll: read what is there, and end the job when the child has
 * exited (seen without reaping it, so that its group can still be
 * killed) or the limit has passed. Returns -1 on a read or memory error,
 * after ending the job.
 */
int
job_step(struct job *j, struct sxerr *e)
{
	siginfo_t si;

	if (j->done)
		return 0;
	if (drain(j, 0, e) == -1 || drain(j, 1, e) == -1) {
		finish(j, 1, e);
		return -1;
	}
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, j->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == j->pid)
		return finish(j, 0, e);
	if (now_ms() >= j->deadline) {
		j->timed_out = 1;
		return finish(j, 1, e);
	}
	return 0;
}

/* Stop the job now (the caller gave up on it); its results are partial. */
void
job_cancel(struct job *j)
{
	struct sxerr e;

	if (j->done || j->pid == 0)
		return;
	j->cancelled = 1;
	finish(j, 1, &e);
}

void
job_free(struct job *j)
{
	job_cancel(j);
	free(j->out.buf);
	free(j->err.buf);
	j->out.buf = j->err.buf = NULL;
}

/* Step a started job to its end, blocking: for callers without a loop. */
int
job_wait(struct job *j, struct sxerr *e)
{
	struct pollfd pfd[JOB_NFDS];
	int n;

	while (!j->done) {
		n = job_pollfds(j, pfd, JOB_NFDS);
		if (poll(pfd, (nfds_t)n, job_timeout(j)) == -1 &&
		    errno != EINTR) {
			sxerr_errno(e, EX_OSERR, "poll");
			job_cancel(j);
			return -1;
		}
		if (job_step(j, e) == -1)
			return -1;
	}
	return 0;
}

int
job_run(struct job *j, char *const argv[], int limit_ms, size_t cap,
    struct sxerr *e)
{
	if (job_start(j, argv, limit_ms, cap, e) == -1)
		return -1;
	return job_wait(j, e);
}

/* The child's exit code, or -1 when a signal ended it. */
int
job_exit_code(const struct job *j)
{
	return j->done && j->status != -1 && WIFEXITED(j->status) ?
	    WEXITSTATUS(j->status) : -1;
}

/* The signal that ended the child, or 0. */
int
job_signal(const struct job *j)
{
	return j->done && j->status != -1 && WIFSIGNALED(j->status) ?
	    WTERMSIG(j->status) : 0;
}
