/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef AUTOSSH_H
#define AUTOSSH_H

#include "legacy.h"
#include "state.h"
#include "sxerr.h"

/*
 * What backend autossh does to a unit of scitex-ssh 1.0 (lib/legacy.c
 * reads them): its state as ssh-tunnel-ls shows it, stop or start again,
 * and removal with its enablement links.
 */
void	autossh_state(const struct legacy *, struct tstate *);
int	autossh_stop(const struct legacy *, int, struct sxerr *);
int	autossh_remove(const struct legacy *, struct sxerr *);

#endif
