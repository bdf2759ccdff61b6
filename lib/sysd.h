/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef SYSD_H
#define SYSD_H

#include <sys/types.h>

#include <stddef.h>
#include <time.h>

#include "sxerr.h"
#include "tunnel.h"
#include "unit.h"

/*
 * systemd, the system manager (as root) or the user's: the template unit
 * installed or updated, then systemctl run with an argv. What the
 * backends systemd, user and autossh are built on.
 */
/* A unit as systemctl show tells it. */
struct sysd_unit {
	char	active[32];	/* ActiveState */
	pid_t	mainpid;	/* 0: none */
	time_t	since;		/* active since (wall clock); 0: not known */
};

#define SYSD_ETC	"/etc/scitex-ssh"	/* what the system unit reads */

int	sysd_booted(void);
int	sysd_check(enum unit_kind, const struct tunnel *, const char *,
	    struct sxerr *);
int	sysd_system_sees(const char *);
int	sysd_available(enum unit_kind, struct sxerr *);
int	sysd_ctl(enum unit_kind, struct sxerr *, const char *, ...)
	    __attribute__((sentinel));
int	sysd_start(enum unit_kind, const char *const [], const int [], size_t,
	    const char *, struct sxerr *);
int	sysd_stop(enum unit_kind, const char *, struct sxerr *);
int	sysd_unit(enum unit_kind, const struct tunnel *, const char *, char *,
	    size_t, struct sxerr *);
int	sysd_enabled(enum unit_kind, const char *);

/* The enablement links of one manager, read at once. */
struct sysd_wants {
	char	**v;
	size_t	  n;
};

int	sysd_wants_read(enum unit_kind, struct sysd_wants *);
int	sysd_wants_has(const struct sysd_wants *, const char *);
void	sysd_wants_free(struct sysd_wants *);
int	sysd_active(enum unit_kind, const char *, char *, size_t);
int	sysd_linger(char *, size_t);
int	sysd_show(enum unit_kind, const char *, struct sysd_unit *);

#endif
