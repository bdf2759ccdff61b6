/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef STATE_H
#define STATE_H

#include <sys/types.h>

#include <stddef.h>
#include <time.h>

#include "sxerr.h"

/*
 * Where a tunnel's files live and the files themselves: the definition
 * (tunnels.d/NAME.yaml), the state table NAME.state read by ssh-tunnel-ls,
 * the pid file NAME.pid and the lock NAME.lock. Every write is atomic
 * (temporary file, fsync, rename, fsync of the directory).
 */
#define STATE_PATH	4096

/*
 * Directories, with room below for NAME.ext in a STATE_PATH; 512 bytes
 * each, not PATH_MAX: every backend's places are kept for a supervisor's
 * life, and each page one of them touches is its own (all four in one
 * page, lib/backend.c). A longer XDG directory is refused as too long.
 */
#define PLACES_PATH	512

struct places {
	char	defs[PLACES_PATH];	/* .../tunnels.d */
	char	state[PLACES_PATH];	/* runtime state directory */
	mode_t	defsmode;		/* of directories made for defs; 0: 0700 */
};

/* The state table of one tunnel, as the supervisor last wrote it. */
struct tstate {
	char		 state[16];	/* up connecting backoff stopped failed */
	pid_t		 pid;		/* supervisor */
	pid_t		 ssh_pid;	/* 0 when no ssh runs */
	time_t		 since;		/* entered this state */
	time_t		 up_since;	/* forward confirmed; 0 when not up */
	unsigned	 restarts;	/* ssh runs after the first */
	char		 reason[16];	/* "" when there is none */
	char		 bastion[300];	/* the bastion in use or last tried */
	unsigned long long start;	/* the supervisor's start time (clock
					   ticks since boot); 0: not said */
	unsigned long long ssh_start;	/* its ssh's, the same way */
	unsigned long long lock_dev;	/* the supervisor's NAME.lock, */
	unsigned long long lock_ino;	/* held as it runs; 0: not said */
	unsigned long long ssh_dev;	/* the file its ssh holds locked */
	unsigned long long ssh_ino;	/* (its stdin); 0: none */
};

/* What /proc/PID/stat says of a process. */
struct pstat {
	char			comm[64];
	char			state;	/* R, S, D, Z (zombie), ... */
	pid_t			ppid;
	unsigned long long	start;	/* clock ticks since boot */
};

int	state_places_user(struct places *, struct sxerr *);
int	state_places_system(struct places *, struct sxerr *);
int	state_mkdir(const char *, struct sxerr *);
int	state_mkdir_mode(const char *, mode_t, struct sxerr *);
int	state_path(char *, size_t, const char *, const char *, const char *);
#define STATE_DURABLE	0x1	/* state_write_file: fsync, survive a crash */

int	state_write_file(const char *, const void *, size_t, mode_t, int,
	    struct sxerr *);
int	state_lock(const char *, int *, struct sxerr *);
int	state_read(const char *, struct tstate *, struct sxerr *);
int	state_write(const char *, const struct tstate *, struct sxerr *);
int	state_pstat(pid_t, struct pstat *);
int	state_proc(pid_t, char *, size_t, unsigned long long *);
int	state_proven(pid_t, const char *, unsigned long long);
int	state_proc_gone(pid_t, unsigned long long);
int	state_proc_child(pid_t, pid_t);
int	state_child_proven(pid_t, pid_t, unsigned long long);
int	state_pidfile_write(const char *, pid_t, struct sxerr *);
int	state_pidfile_proven(const char *, const char *, pid_t *);

#endif
