/* SPDX-License-Identifier: AGPL-3.0-only */
/* Placeholder until the relay lands. */
#include "relay.h"

int
relay_connect(const char *host, const char *port, int ms, int *fd,
    struct sxerr *e)
{
	return sxerr_set(e, EX_UNAVAILABLE, "%s:%s: relay not built", host,
	    port);
}

int
relay_pump(int s, int in, int out, struct sxerr *e)
{
	return sxerr_set(e, EX_UNAVAILABLE, "relay not built");
}

int
relay_sendfd(int u, int fd, struct sxerr *e)
{
	return sxerr_set(e, EX_UNAVAILABLE, "relay not built");
}
