/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef LIFECYCLE_PRIV_H
#define LIFECYCLE_PRIV_H

/*
 * Shared by the files of the lifecycle (lifecycle.c: gate, define, start;
 * -list.c: rows and the probe; -down.c: removal; -adopt.c: scitex-ssh
 * 1.0's units taken over; -run.c: the supervisor; -all.c: every tunnel
 * started at once), never by its users.
 */
/*
 * How long ssh-tunnel-up waits for a forward to be confirmed; and, while
 * the bastion is there and busy (throttled, or a first connect still
 * under way), up to LC_WAIT_BUSY_MS: the supervisor then gives its ssh
 * 40 s (PATIENT_S, lib/supervise.c), and a lab of 500 booting together
 * on one bastion was up in 25-50 s while 217 of their 500 calls had said
 * "not confirmed up after 10 s" (bench/fleet.md).
 */
#define LC_WAIT_UP_MS	((TUN_CONNECT_TIMEOUT + 5) * 1000)
#define LC_WAIT_BUSY_MS	(60 * 1000)

void	lc_say(const struct lc_ctx *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	lc_check(const struct lc_ctx *, const struct backend *,
	    const struct tunnel *, const char *, struct sxerr *);
void	lc_bstart(const struct lc_ctx *, const struct lc_start *, int,
	    struct bstart *);
int	lc_pause(const struct lc_ctx *, int);
int	lc_look_up(struct lc_start *, pid_t, unsigned, struct sxerr *);
int	lc_not_confirmed(const struct lc_start *, long long, struct sxerr *);
int	lc_wait_on(long long, long long, long long, int);
int	lc_wait_up(const struct lc_ctx *, struct lc_start *, pid_t, unsigned,
	    struct sxerr *);
int	lc_prefixed(struct sxerr *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
