/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef SYSD_H
#define SYSD_H

#include <stddef.h>

#include "backend.h"
#include "legacy.h"
#include "sxerr.h"
#include "tunnel.h"
#include "unit.h"

/*
 * Backends systemd (the system manager, as root) and user (the user's
 * manager): the template unit installed or updated, then systemctl run
 * with an argv. Also the state and removal of scitex-ssh 1.0's units.
 */
int	sysd_available(enum unit_kind, struct sxerr *);
int	sysd_start(enum unit_kind, struct bstart *, struct sxerr *);
int	sysd_stop(enum unit_kind, const char *, struct sxerr *);
int	sysd_unit(enum unit_kind, const struct tunnel *, const char *, char *,
	    size_t, struct sxerr *);
int	sysd_enabled(enum unit_kind, const char *);
int	sysd_active(enum unit_kind, const char *, char *, size_t);
int	sysd_linger(char *, size_t);
void	sysd_legacy_state(const struct legacy *, char *, size_t, char *,
	    size_t);
int	sysd_legacy_stop(const struct legacy *, int, struct sxerr *);
int	sysd_legacy_remove(const struct legacy *, struct sxerr *);

#endif
