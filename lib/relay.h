/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef RELAY_H
#define RELAY_H

#include "sxerr.h"

/*
 * The data path of ssh-allow-check -W: connect to a host:port (every
 * address in turn, each attempt bounded), then either copy bytes both ways
 * between fds until both directions are closed, or hand the socket over a
 * unix socket for ssh's ProxyUseFdpass.
 */
int	relay_connect(const char *, const char *, int, int *, struct sxerr *);
int	relay_pump(int, int, int, struct sxerr *);
int	relay_sendfd(int, int, struct sxerr *);

#endif
