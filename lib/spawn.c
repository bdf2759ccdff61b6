/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "now.h"
#include "spawn.h"

extern char **environ;

/*
 * The attributes of every child: default dispositions and an empty signal
 * mask whatever ours are, plus flags (a session, a process group).
 */
void
spawn_attr_init(posix_spawnattr_t *a, short flags)
{
	sigset_t all, none;

	posix_spawnattr_init(a);
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(a, &all);
	posix_spawnattr_setsigmask(a, &none);
	posix_spawnattr_setflags(a, POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETSIGMASK | flags);
}

/* n close-on-exec pipes into p, or none (those made closed again). */
int
spawn_pipe_set(int (*p)[2], size_t n, struct sxerr *e)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pipe2(p[i], O_CLOEXEC) == -1) {
			while (i-- > 0)
				close(p[i][0]), close(p[i][1]);
			return sxerr_errno(e, EX_OSERR, "pipe");
		}
	return 0;
}

/* Append what fd has to read into buf (kept NUL-terminated); 0 at EOF. */
static int
drain(int fd, char *buf, size_t sz, size_t *len)
{
	char junk[4096];
	ssize_t n;

	if (*len + 1 < sz)
		n = read(fd, buf + *len, sz - 1 - *len);
	else
		n = read(fd, junk, sizeof(junk));
	if (n == -1)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n > 0 && *len + 1 < sz) {
		*len += (size_t)n;
		buf[*len] = '\0';
	}
	return n > 0;
}

/*
 * Run argv with stdin an idle pipe (closed once we are done, so that a
 * program waiting for input sees EOF only then) and collect stdout and
 * stderr until both are closed, c->until appears on stdout, or
 * c->timeout_ms passes; a child still running then gets SIGTERM.
 */
int
spawn_capture(char *const argv[], struct capture *c, struct sxerr *e)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t a;
	int p[3][2], *in = p[0], *out = p[1], *err = p[2], rc, open_fds, st;
	size_t olen = 0, elen = 0;
	long long deadline;
	struct pollfd pfd[2];
	pid_t pid;

	if (c->outsz > 0)
		c->out[0] = '\0';
	if (c->errsz > 0)
		c->err[0] = '\0';
	c->status = -1;
	if (spawn_pipe_set(p, 3, e) == -1)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	spawn_attr_init(&a, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, &a, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&a);
	close(in[0]), close(out[1]), close(err[1]);
	if (rc != 0) {
		close(in[1]), close(out[0]), close(err[0]);
		errno = rc;
		return sxerr_errno(e, EX_UNAVAILABLE, "%s", argv[0]);
	}
	pfd[0].fd = out[0];
	pfd[1].fd = err[0];
	pfd[0].events = pfd[1].events = POLLIN;
	open_fds = 2;
	deadline = now_ms() + c->timeout_ms;
	while (open_fds > 0) {
		long long left = deadline - now_ms();

		if (left <= 0)
			break;
		if (poll(pfd, 2, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents != 0 &&
		    !drain(out[0], c->out, c->outsz, &olen)) {
			pfd[0].fd = -1;
			open_fds--;
		}
		if (pfd[1].revents != 0 &&
		    !drain(err[0], c->err, c->errsz, &elen)) {
			pfd[1].fd = -1;
			open_fds--;
		}
		if (c->until != NULL && olen > 0 && strstr(c->out, c->until))
			break;
	}
	close(in[1]), close(out[0]), close(err[0]);
	if (open_fds > 0) {
		/* Stopped by us: the status says so, not the child's code. */
		spawn_stop(pid, 2000);
		return 0;
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return sxerr_errno(e, EX_OSERR, "waitpid");
	c->status = st;
	return 0;
}

/*
 * Start argv in its own session, detached from our terminal, with stdin
 * and stdout on /dev/null, stderr to errpath (or /dev/null), and passfd
 * (unless -1) as its fd 3: how a lock is handed on. No other fd of ours
 * goes with it: a long-lived supervisor that inherited the caller's
 * socket or pipe (one not marked close-on-exec) would hold it open for
 * as long as it runs.
 */
int
spawn_detached(char *const argv[], const char *errpath, int passfd,
    pid_t *pid, struct sxerr *e)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t a;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2,
	    errpath != NULL ? errpath : "/dev/null",
	    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
	if (passfd != -1)
		posix_spawn_file_actions_adddup2(&fa, passfd, 3);
	posix_spawn_file_actions_addclosefrom_np(&fa, passfd != -1 ? 4 : 3);
	spawn_attr_init(&a, POSIX_SPAWN_SETSID);
	rc = posix_spawn(pid, argv[0], &fa, &a, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&a);
	if (rc != 0) {
		errno = rc;
		return sxerr_errno(e, EX_OSERR, "%s", argv[0]);
	}
	return 0;
}

/*
 * Start argv as a child that cannot outlive us, even when we are killed
 * with SIGKILL: the kernel sends it SIGTERM when we die (PR_SET_PDEATHSIG).
 * That must be set in the child between fork and exec, which posix_spawn
 * offers no hook for; hence this one plain fork+exec. stdin is infd (or
 * /dev/null when -1), stdout /dev/null, stderr errfd (or /dev/null when
 * -1), and no other fd.
 */
int
spawn_tied(char *const argv[], int infd, int errfd, pid_t *pid,
    struct sxerr *e)
{
	sigset_t none;
	pid_t parent = getpid(), p;
	int null, sig;

	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return sxerr_errno(e, EX_OSERR, "/dev/null");
	if ((p = fork()) == -1) {
		close(null);
		return sxerr_errno(e, EX_OSERR, "fork");
	}
	if (p == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
		    getppid() != parent)
			_exit(127);	/* parent already gone */
		for (sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(infd != -1 ? infd : null, 0) == -1 ||
		    dup2(null, 1) == -1 ||
		    dup2(errfd != -1 ? errfd : null, 2) == -1)
			_exit(127);
		closefrom(3);	/* whatever our caller left open */
		execvp(argv[0], argv);
		_exit(127);
	}
	close(null);
	*pid = p;
	return 0;
}

/*
 * Run path with argv and env (exactly these: no PATH search), its stdin
 * and stdout pipes whose other ends come back in c->to and c->from (close
 * on exec), stderr ours. For a program we talk to, as ssh-copy-guard talks
 * to sftp-server.
 */
int
spawn_pipes(const char *path, char *const argv[], char *const env[],
    struct piped *c, struct sxerr *e)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t a;
	int p[2][2], *in = p[0], *out = p[1], rc;

	if (spawn_pipe_set(p, 2, e) == -1)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	spawn_attr_init(&a, 0);
	rc = posix_spawn(&c->pid, path, &fa, &a, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&a);
	close(in[0]), close(out[1]);
	if (rc != 0) {
		close(in[1]), close(out[0]);
		errno = rc;
		return sxerr_errno(e, EX_OSERR, "%s", path);
	}
	c->to = in[1];
	c->from = out[0];
	return 0;
}

/*
 * A pidfd of pid, to wait on and signal without polling or racing a
 * reused pid; -1 where the kernel has none (before 5.3, or a seccomp
 * filter refusing it): callers poll instead.
 */
int
spawn_pidfd(pid_t pid)
{
	return pidfd_open(pid, 0);
}

/* sig to the process of pidfd (never to another that took its pid). */
static int
spawn_pidfd_kill(int pidfd, int sig)
{
	return pidfd_send_signal(pidfd, sig, NULL, 0);
}

/*
 * Wait at most ms for the process of pidfd to end: 1 when it has (a
 * child of ours is left to reap), 0 when it still runs.
 */
static int
spawn_pidfd_wait(int pidfd, int ms)
{
	long long deadline = now_ms() + ms, left;
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int n;

	while ((n = poll(&p, 1, (left = deadline - now_ms()) > 0 ?
	    (int)left : 0)) == -1 && errno == EINTR)
		;
	return n != 0;
}

/*
 * SIGTERM to pid, and SIGKILL when it has not ended within ms. Woken by
 * its end through pidfd (signalled through it too, never a process that
 * took the pid); without one (-1), gone(pid, arg) is asked every 10 ms.
 * -1 with errno when the SIGTERM could not be sent.
 */
int
spawn_end(pid_t pid, int pidfd, int ms, int (*gone)(pid_t, void *),
    void *arg)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	long long deadline = now_ms() + ms;

	if ((pidfd != -1 ? spawn_pidfd_kill(pidfd, SIGTERM) :
	    kill(pid, SIGTERM)) == -1)
		return -1;
	if (pidfd != -1) {
		if (!spawn_pidfd_wait(pidfd, ms))
			(void)spawn_pidfd_kill(pidfd, SIGKILL);
		return 0;
	}
	while (!gone(pid, arg)) {
		if (now_ms() >= deadline) {
			(void)kill(pid, SIGKILL);
			break;
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* A child ended, and reaped (*arg set): it is not to be killed now. */
static int
reaped(pid_t pid, void *arg)
{
	if (waitpid(pid, NULL, WNOHANG) == 0)
		return 0;
	*(int *)arg = 1;
	return 1;
}

/*
 * Stop a child of ours: SIGTERM, then SIGKILL after wait_ms, and reap it.
 * Only ever called with the pid of a child we started and have not reaped.
 * Woken by its end (a pidfd): 500 supervisors stopping their ssh together
 * would otherwise wake 100 times a second each while the machine is
 * busiest.
 */
void
spawn_stop(pid_t pid, int wait_ms)
{
	int fd, done = 0;

	if (pid <= 0)
		return;
	fd = spawn_pidfd(pid);
	(void)spawn_end(pid, fd, wait_ms, reaped, &done);
	if (fd != -1)
		close(fd);
	if (!done)
		waitpid(pid, NULL, 0);
}
