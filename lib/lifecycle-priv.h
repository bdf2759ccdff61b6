/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef LIFECYCLE_PRIV_H
#define LIFECYCLE_PRIV_H

/*
 * Shared by the files of the lifecycle (lifecycle.c: gate, define, start;
 * -list.c: rows and the probe; -down.c: removal; -adopt.c: scitex-ssh
 * 1.0's units taken over; -run.c: the supervisor), never by its users.
 */
void	lc_say(const struct lc_ctx *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	lc_check(const struct lc_ctx *, const struct backend *,
	    const struct tunnel *, const char *, struct sxerr *);
int	lc_prefixed(struct sxerr *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
