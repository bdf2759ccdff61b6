/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef JOB_H
#define JOB_H

#include <sys/types.h>

#include <poll.h>
#include <stddef.h>

#include "sxerr.h"

/*
 * One program run to its end under a time limit, with what it prints
 * captured up to a cap, driven from the caller's poll(2) loop so that the
 * caller keeps serving while it runs:
 *
 *	job_start(&j, argv, limit_ms, cap, &e);
 *	while (!j.done) {
 *		n = job_pollfds(&j, pfd, JOB_NFDS);
 *		poll(pfd, n, job_timeout(&j));	(with the caller's own fds)
 *		job_step(&j, &e);
 *	}
 *	... j.status, j.out, j.err, j.timed_out, j.ms ...
 *	job_free(&j);
 *
 * The child gets stdin on /dev/null and a process group of its own. When
 * it ends, whatever is left of its group is killed; when the limit passes
 * (or job_cancel), the whole group is killed at once with SIGKILL. Either
 * way the child is reaped before done is set, so nothing the job started
 * outlives it (a process that leaves the group with setsid(2) is out of
 * reach, as from any shell). Output past the cap is read and thrown away,
 * never left in the pipe: a child is never blocked on us, and runs to its
 * end or its limit with truncated set. argv[0] is found on PATH. job_wait
 * steps a started job to its end, blocking; job_run starts one and waits.
 */
#define JOB_NFDS	3	/* stdout, stderr, and the child's pidfd */

struct jobout {
	char	*buf;		/* NUL-terminated; NULL until something came */
	size_t	 len;
	int	 truncated;	/* more came than the cap */
};

struct job {
	pid_t		 pid;		/* also the process group; 0: reaped */
	int		 fd[JOB_NFDS];	/* -1 when closed */
	size_t		 cap;		/* per stream, in bytes */
	long long	 start, deadline;	/* CLOCK_MONOTONIC, ms */
	struct jobout	 out, err;
	int		 done;
	int		 timed_out;	/* killed by the limit */
	int		 cancelled;	/* killed by job_cancel */
	int		 status;	/* from waitpid, once done */
	long long	 ms;		/* start to end, once done */
};

int	job_start(struct job *, char *const [], int, size_t, struct sxerr *);
int	job_pollfds(const struct job *, struct pollfd *, size_t);
int	job_timeout(const struct job *);
int	job_step(struct job *, struct sxerr *);
void	job_cancel(struct job *);
void	job_free(struct job *);
int	job_wait(struct job *, struct sxerr *);
int	job_run(struct job *, char *const [], int, size_t, struct sxerr *);
int	job_exit_code(const struct job *);
int	job_signal(const struct job *);

#endif
