/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef HELD_H
#define HELD_H

#include <sys/stat.h>

#include <stddef.h>

/*
 * The files some process holds a flock(2) lock on, as /proc/locks lists
 * them: one read for all of them, where proving each holder alive costs
 * a read of its /proc/PID/stat, which the kernel formats whole. A lock
 * listed is held right now; one not listed proves nothing: outside the
 * initial pid namespace the kernel leaves out a lock whose taker has
 * exited (as ssh-tunnel-up has, which takes a supervisor's lock and
 * hands it down) or lives in a namespace the reader cannot see.
 */
struct heldlock;

struct held {
	struct heldlock	*v;
	size_t		 n;
};

int	held_load(const char *, struct held *);
int	held_has(const struct held *, dev_t, ino_t);
void	held_free(struct held *);

#endif
