/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef SPAWN_H
#define SPAWN_H

#include <sys/types.h>

#include <spawn.h>
#include <stddef.h>

#include "sxerr.h"

/*
 * Running other programs: always an argv, never a shell. PATH is searched
 * for argv[0] as execvp(3) does.
 */
struct capture {
	char	*out;		/* child's stdout, NUL-terminated */
	size_t	 outsz;
	char	*err;		/* child's stderr, NUL-terminated */
	size_t	 errsz;
	const char *until;	/* stop once stdout holds this; NULL: EOF */
	int	 timeout_ms;	/* then the child is stopped */
	int	 status;	/* as from waitpid; -1 when stopped by us */
};

/* A program we talk to through its stdin and stdout (spawn_pipes). */
struct piped {
	pid_t	 pid;
	int	 to;		/* our end of its stdin */
	int	 from;		/* our end of its stdout */
};

int	spawn_capture(char *const [], struct capture *, struct sxerr *);
int	spawn_detached(char *const [], const char *, int, pid_t *,
	    struct sxerr *);
int	spawn_pipes(const char *, char *const [], char *const [],
	    struct piped *, struct sxerr *);
int	spawn_tied(char *const [], int, int, pid_t *, struct sxerr *);
void	spawn_stop(pid_t, int);
int	spawn_end(pid_t, int, int, int (*)(pid_t, void *), void *);
int	spawn_pidfd(pid_t);
void	spawn_attr_init(posix_spawnattr_t *, short);
int	spawn_pipe_set(int (*)[2], size_t, struct sxerr *);

#endif
