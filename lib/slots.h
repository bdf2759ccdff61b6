/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef SLOTS_H
#define SLOTS_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

/*
 * At most SLOT_MAX handshakes at once from the tunnels of one host
 * (network namespace) and user to one bastion: below sshd's default
 * MaxStartups (10), where it starts to drop connections.
 */
#define SLOT_MAX	8

unsigned long long slot_key(const char *);
int	slot_take(unsigned long long, unsigned, int *);
void	slot_give(int *);
int	slot_wait(unsigned long long, unsigned);
int	slot_handed(int *, int *);

/* The name of slot k of bastion key of a uid (the unit tests squat it). */
socklen_t slot_name(uid_t, unsigned long long, unsigned,
	    struct sockaddr_un *);

#endif
