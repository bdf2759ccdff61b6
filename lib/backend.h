/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef BACKEND_H
#define BACKEND_H

#include <sys/types.h>

#include <stddef.h>

#include "config.h"
#include "state.h"
#include "sxerr.h"
#include "tunnel.h"

/*
 * The seam between the tunnel programs and whatever keeps a supervisor
 * running: systemd (system), user (systemd --user) or daemon (a detached
 * ssh-tunnel-up -f). Each is an ops table; the programs never ask which.
 */
#define SUPERVISOR_COMM	"ssh-tunnel-up"	/* its /proc comm, for pid proof */

struct bstart {
	const char	*name;
	const char	*self;		/* ssh-tunnel-up, absolute, run as -f */
	const char	*config;	/* -F given, or NULL */
	int		 verbose;
	int		 lockfd;	/* handed to the supervisor */
	const struct places *pl;
	pid_t		 pid;		/* out: the supervisor, when known */
	const struct tunnel *t;		/* the definition (systemd, user) */
	char		 note[512];	/* out: a warning to show, or "" */
};

struct backend {
	const char	*name;
	int		(*available)(struct sxerr *);
	int		(*places)(struct places *, struct sxerr *);
	int		(*start)(struct bstart *, struct sxerr *);
	int		(*stop)(const struct places *, const char *,
			    struct sxerr *);
	int		(*unit)(const struct tunnel *, const char *, char *,
			    size_t, struct sxerr *);
};

/* A defined tunnel and where it is defined. */
struct tref {
	char			 name[NAME_MAX_LEN + 1];
	char			 path[STATE_PATH];	/* definition file */
	int			 in_config;		/* tunnels: section */
	unsigned		 line;
	const struct backend	*b;
	struct places		 pl;
};

const struct backend *backend_find(const char *, struct sxerr *);
const struct backend *backend_pick(struct sxerr *);
int	backend_list(const struct config *, struct tref **, size_t *,
	    struct sxerr *);
int	backend_lookup(const struct config *, const char *, struct tref *,
	    struct sxerr *);
int	backend_load(const struct config *, const struct tref *,
	    struct tunnel *, struct sxerr *);
void	backend_status(const struct tref *, struct tstate *);
int	backend_supervisor(const struct places *, const char *, pid_t *);

#endif
