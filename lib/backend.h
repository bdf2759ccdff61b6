/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef BACKEND_H
#define BACKEND_H

#include <sys/types.h>

#include <stddef.h>

#include "config.h"
#include "held.h"
#include "state.h"
#include "sxerr.h"
#include "tunnel.h"

/*
 * The seam between the tunnel programs and whatever keeps a supervisor
 * running: systemd (system), user (systemd --user), daemon (a detached
 * ssh-tunnel-up -f), and autossh, the units scitex-ssh 1.0 wrote, which
 * are only listed, stopped, started again and removed. Each is an ops
 * table; the programs never ask which.
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

struct tref;

/* Each operation is handed its own entry: systemd and user share theirs. */
struct backend {
	const char	*name;
	int		 defines;	/* takes definitions: -m may name it */
	int		 unit;		/* systemd's unit kind; -1: none */
	int		(*available)(const struct backend *, struct sxerr *);
	int		(*places)(struct places *, struct sxerr *);
	int		(*start)(const struct backend *, struct bstart *,
			    struct sxerr *);
	int		(*stop)(const struct backend *, const struct places *,
			    const char *, struct sxerr *);
	int		(*unit_text)(const struct backend *,
			    const struct tunnel *, const char *, char *,
			    size_t, struct sxerr *);
	int		(*load)(const struct config *, const struct tref *,
			    struct tunnel *, struct sxerr *);
	void		(*state)(const struct tref *, const struct held *,
			    struct tstate *);
	/* Its tunnels, appended; NULL: found in tunnels.d and the config. */
	int		(*list)(struct tref **, size_t *, struct sxerr *);
	/* NULL: the caller removes the files of places under the lock. */
	int		(*remove)(const struct tref *, struct sxerr *);
	/* Before anything is written: can it run this tunnel, read from
	 * that file (NULL: written anew)? A warning to show into note. */
	int		(*check)(const struct backend *, const struct tunnel *,
			    const char *, char *, size_t, struct sxerr *);
	/* Many starts at once (ssh-tunnel-up -a), all or none; NULL: each
	 * through start. */
	int		(*start_many)(const struct backend *, struct bstart *,
			    size_t, struct sxerr *);
};

/* A tunnel and where it is defined. */
struct tref {
	char			 name[NAME_MAX_LEN + 1];
	char			 path[STATE_PATH];	/* definition file */
	int			 in_config;		/* tunnels: section */
	unsigned		 line;
	int			 port;	/* autossh: PORT of its unit; else 0 */
	const struct backend	*b;
	/* The backend's places, which backend_list keeps, one for all its
	 * tunnels (2 KiB each, a thousand copies before). */
	const struct places	*pl;
};

/* What backend_list lists. */
#define BL_DEFINED	0x1	/* tunnels.d and the config's tunnels: */
#define BL_OTHERS	0x2	/* what other tools left: 1.0's units */

const struct backend *backend_find(const char *, struct sxerr *);
const struct backend *backend_pick(struct sxerr *);
/* Handed each tunnel listed (NULL: see backend_each); -1 (e set) ends
 * the listing. */
typedef int (*backend_fn)(void *, const struct tref *, struct sxerr *);

int	backend_each(const struct config *, int, backend_fn, void *,
	    struct sxerr *);
int	backend_list(const struct config *, int, struct tref **, size_t *,
	    struct sxerr *);
int	backend_lookup(const struct config *, const char *, struct tref *,
	    struct sxerr *);
int	backend_autossh(int, struct tref *, struct sxerr *);
int	backend_load(const struct config *, const struct tref *,
	    struct tunnel *, struct sxerr *);
void	backend_status(const struct tref *, const struct held *,
	    struct tstate *);
int	backend_supervisor(const struct places *, const char *, pid_t *);
int	backend_signal(const struct tref *);

#endif
