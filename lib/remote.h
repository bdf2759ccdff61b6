/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef REMOTE_H
#define REMOTE_H

#include <stddef.h>

#include "host.h"
#include "job.h"
#include "policy.h"
#include "sxerr.h"

/*
 * scitex-ssh 1.0's primitives for one-shot automation: run a command on a
 * host, copy to or from it (scp), sync a directory with it (rsync), probe
 * it for programs. Each is one ssh, scp or rsync invocation with an argv
 * built here from validated values (never a local shell), with the batch
 * defaults (no prompt, no connection sharing, none of the host's
 * configured forwards, no LocalCommand), behind the policy: feature exec
 * for a command or a probe, copy for copies and syncs.
 *
 * remote_check validates a request and fills a remote_target; remote_gate
 * asks the policy; remote_argv builds the argv. remote_start does all
 * three and starts the job (see job.h for driving it); remote_run blocks.
 * remote_start_resolve and remote_start_job are remote_start in two
 * halves, around the ssh -G job, for a caller that drives jobs itself.
 */
enum remote_op {
	REMOTE_EXEC,		/* run command, or argv */
	REMOTE_PROBE,		/* reachable? which of names are there? */
	REMOTE_COPY_TO,		/* scp local -> host:remote */
	REMOTE_COPY_FROM,	/* scp host:remote -> local */
	REMOTE_SYNC_PUSH,	/* rsync local -> host:remote */
	REMOTE_SYNC_PULL	/* rsync host:remote -> local */
};

#define REMOTE_CMD_MAX		65536	/* a command string, in bytes */
#define REMOTE_ARGC_MAX		256	/* words of an argv */
#define REMOTE_WORD_MAX		4096	/* one word, one path */
#define REMOTE_NAMES_MAX	64	/* programs a probe asks about */
#define REMOTE_NAME_MAX		64
#define REMOTE_EXCLUDES_MAX	64
#define REMOTE_EXCLUDE_MAX	255

struct remote_req {
	enum remote_op	 op;
	const char	*host;		/* [user@]host[:port], or an alias */
	const char	*command;	/* EXEC: for the remote shell; or */
	const char *const *argv;	/* EXEC: words, each quoted for it */
	size_t		 argc;
	const char *const *names;	/* PROBE: programs to look for */
	size_t		 nnames;
	const char	*local;		/* COPY, SYNC */
	const char	*remote;	/* COPY, SYNC */
	const char *const *exclude;	/* SYNC: rsync --exclude patterns */
	size_t		 nexclude;
	int		 tty;		/* EXEC: ssh -tt (see remote_argv) */
	int		 recursive;	/* COPY: scp -r */
	int		 delete;	/* SYNC: rsync --delete */
};

/* The host as ssh is given it, and as the policy is asked about it. */
struct remote_target {
	struct bastion	 dest;		/* user, canonical host, port */
	char		 reached[HOST_MAX + 1];	/* ssh -G's hostname */
};

/*
 * remote_start in two halves: the request, the policy that judges it and
 * the limits of the job, given; between the halves, the target and the
 * ssh -G job that resolves it.
 */
struct remote_start {
	const struct remote_req	*r;
	const struct policy	*p;
	int			 limit_ms;	/* the job's time limit */
	size_t			 cap;		/* bytes kept of each output */
	struct remote_target	 t;
	struct job		 rj;		/* ssh -G */
};

const char *remote_feature(enum remote_op);
int	remote_check(const struct remote_req *, struct remote_target *,
	    struct sxerr *);
int	remote_resolve(const char *, struct remote_target *, struct sxerr *);
int	remote_resolve_start(const char *, const struct remote_target *,
	    struct job *, struct sxerr *);
int	remote_resolve_end(const char *, struct remote_target *, struct job *,
	    struct sxerr *);
int	remote_gate(const struct policy *, enum remote_op,
	    const struct remote_target *, struct decision *, struct sxerr *);
int	remote_argv(const struct remote_req *, const struct remote_target *,
	    const char *, char ***, struct sxerr *);
void	remote_argv_free(char **);
int	remote_start(const struct remote_req *, const struct policy *,
	    int, size_t, struct job *, struct sxerr *);
int	remote_start_resolve(struct remote_start *, struct sxerr *);
int	remote_start_job(struct remote_start *, struct job *, struct sxerr *);
int	remote_run(const struct remote_req *, const struct policy *, int,
	    size_t, struct job *, struct sxerr *);
int	remote_reached(const struct job *);
int	remote_probe_found(const char *, const char *, char *, size_t);

#endif
