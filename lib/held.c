/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "held.h"
#include "slurp.h"
#include "vec.h"

/* A file as /proc/locks names it: its device's major and minor, inode. */
struct heldlock {
	unsigned long long	ino;
	unsigned		maj, min;
};

/*
 * At most this many: another user's million locks would otherwise cost
 * every listing a second and megabytes. The rest are simply not listed,
 * which proves nothing either way (their rows are proven as before).
 */
#define HELD_MAX	65536

struct loading {
	struct held	*h;
	size_t		 room;
	int		 nomem;
};

/*
 * One line: "1: FLOCK  ADVISORY  WRITE 4173 fe:00:10959658 0 EOF". A
 * waiter's line ("1: -> FLOCK ...") holds nothing; POSIX, OFD locks and
 * leases are not flock(2)'s.
 */
static int
add(char *line, void *arg)
{
	struct loading *l = arg;
	struct heldlock k;
	char type[16];

	if (sscanf(line, "%*u: %15s %*s %*s %*d %x:%x:%llu", type, &k.maj,
	    &k.min, &k.ino) != 4 || strcmp(type, "FLOCK") != 0)
		return 0;
	if (l->h->n == HELD_MAX)
		return 1;	/* enough: stop reading */
	if (vec_room(&l->h->v, &l->room, l->h->n, sizeof(k)) == -1) {
		l->nomem = 1;
		return 1;
	}
	l->h->v[l->h->n++] = k;
	return 0;
}

static int
cmp(const void *a, const void *b)
{
	const struct heldlock *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->maj != y->maj)
		return x->maj < y->maj ? -1 : 1;
	return x->min < y->min ? -1 : x->min > y->min;
}

/* The flock(2) locks listed in path (/proc/locks) into h: 0, or -1. */
int
held_load(const char *path, struct held *h)
{
	struct loading l;
	char buf[8192];		/* a few reads for a thousand locks */

	memset(h, 0, sizeof(*h));
	memset(&l, 0, sizeof(l));
	l.h = h;
	if (slurp_lines(path, buf, sizeof(buf), add, &l) == -1 || l.nomem) {
		held_free(h);
		return -1;
	}
	if (h->n > 1)
		qsort(h->v, h->n, sizeof(*h->v), cmp);
	return 0;
}

/* Whether the file on device dev with inode ino is listed as locked. */
int
held_has(const struct held *h, dev_t dev, ino_t ino)
{
	struct heldlock k;

	if (h == NULL || h->n == 0)
		return 0;
	k.ino = ino;
	k.maj = major(dev);
	k.min = minor(dev);
	return bsearch(&k, h->v, h->n, sizeof(*h->v), cmp) != NULL;
}

void
held_free(struct held *h)
{
	free(h->v);
	h->v = NULL;
	h->n = 0;
}
