/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef DISCOVERY_H
#define DISCOVERY_H

#include "host.h"
#include "sxerr.h"
#include "tunnel.h"

/*
 * The discovery forward at run time: read the JSON file a scheduler
 * rewrites ({"node": "gpu-a017", "litellm_port": 4000, ...}), point the
 * tunnel's forward at what it names, and watch the file for the next
 * rewrite. Nothing read from the file reaches ssh's argv unvalidated.
 */
#define DISC_FILE_MAX	65536

struct dtarget {
	char	host[HOST_MAX + 1];
	int	port;
};

int	discovery_read(const struct tunnel *, struct dtarget *, struct sxerr *);
int	discovery_parse(const struct tunnel *, const char *, const char *,
	    size_t, struct dtarget *, struct sxerr *);
void	discovery_point(struct tunnel *, const struct dtarget *);
int	discovery_same(const struct dtarget *, const struct dtarget *);
int	discovery_watch(const struct tunnel *);
int	discovery_news(int, const struct tunnel *);

#endif
