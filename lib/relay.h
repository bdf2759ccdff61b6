/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef RELAY_H
#define RELAY_H

#include "sxerr.h"

/*
 * The data path of ssh-allow-check -W: connect to a host:port (every
 * address in turn, each attempt bounded), then either copy bytes both ways
 * between fds until both directions are closed, or hand the socket over a
 * unix socket for ssh's ProxyUseFdpass.
 *
 * relay_connect(host, port, timeout_ms, &fd, e): port is a decimal number;
 * timeout_ms bounds each address's attempt (<= 0: the kernel's own bound).
 * *fd is a blocking, close-on-exec socket. Fails with EX_UNAVAILABLE.
 *
 * relay_pump(sock, in, out, e): in -> sock and sock -> out, with splice(2)
 * where it applies. EOF on in shuts sock down for writing; EOF on sock
 * shuts out down (a socket) or points it at /dev/null (anything else), so
 * its reader sees EOF while the descriptor stays valid. A peer that goes
 * away (EPIPE, ECONNRESET) is a normal end; the caller ignores SIGPIPE.
 * O_NONBLOCK is set for the copy and restored after. Fails with
 * EX_UNAVAILABLE (the network) or EX_OSERR.
 *
 * relay_sendfd(unixsock, fd, e): one byte carrying fd as SCM_RIGHTS, as
 * ssh's mm_receive_fd() expects. EX_CONFIG when unixsock is no unix
 * socket (ProxyUseFdpass not set), else EX_OSERR.
 */
int	relay_connect(const char *, const char *, int, int *, struct sxerr *);
int	relay_pump(int, int, int, struct sxerr *);
int	relay_sendfd(int, int, struct sxerr *);

#endif
