/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef UNIT_H
#define UNIT_H

#include <stddef.h>

#include "sxerr.h"

/*
 * The template units ssh-tunnel@.service, system and user, rendered with
 * the absolute path of the ssh-tunnel-up that runs the supervisor. Only
 * validated values go in: nothing is ever escaped into place.
 */
enum unit_kind { UNIT_SYSTEM, UNIT_USER };

#define UNIT_TEMPLATE	"ssh-tunnel@.service"
#define UNIT_PATH	4096
#define UNIT_NO_USERNS	"50-no-userns.conf"	/* in ssh-tunnel@.service.d */

int	unit_valid_bin(const char *, struct sxerr *);
int	unit_render(enum unit_kind, const char *, char **, struct sxerr *);
int	unit_instance(const char *, char *, size_t, struct sxerr *);
int	unit_dir(enum unit_kind, char *, size_t, struct sxerr *);
int	unit_current(const char *, const char *, struct sxerr *);
int	unit_install(enum unit_kind, const char *, const char *, int *,
	    struct sxerr *);
int	unit_userns_dropin(const char *, int, int *, struct sxerr *);

#endif
