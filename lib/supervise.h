/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef SUPERVISE_H
#define SUPERVISE_H

#include <stddef.h>

#include "sxerr.h"
#include "tunnel.h"

/*
 * The supervisor: keeps one ssh -N running for a tunnel, forever, and
 * records what it is doing in the state table. It never prints: messages
 * go through log (level 0: state changes, 1: ssh's own lines for -v).
 * reload is called on SIGHUP for the new definition.
 */
struct sv_hooks {
	int	(*reload)(void *, struct tunnel *, struct sxerr *);
	void	(*log)(void *, int, const char *);
	void	 *arg;
};

int	supervise_run(struct tunnel *, const char *, const char *, int,
	    const struct sv_hooks *, struct sxerr *);
const char *supervise_classify(const char *);
long	supervise_delay_ms(unsigned, int, unsigned);
long	supervise_throttle_ms(unsigned, long, int, unsigned);

#endif
