/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <stddef.h>

#include "state.h"
#include "tunnel.h"

/*
 * What a service started by systemd tells its manager (sd_notify(3)'s
 * protocol, written here: one datagram to $NOTIFY_SOCKET, no libsystemd):
 * READY=1 once every forward is confirmed, a STATUS= line on each change
 * of state, so that systemctl status says why a tunnel is down. And
 * whether stderr is the journal, whose lines carry the program's name,
 * pid and time already.
 */
int	notify_send(const char *);
int	notify_fmt(const struct tstate *, const struct tunnel *, long, char *,
	    size_t);
int	notify_journal(void);

#endif
