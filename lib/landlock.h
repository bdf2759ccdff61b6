/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef LANDLOCK_H
#define LANDLOCK_H

#include <stddef.h>

#include "sxerr.h"

/*
 * The kernel layer of ssh-copy-guard: confine this process and whatever it
 * executes to a list of paths, each with one access class. Everything the
 * running kernel's Landlock ABI can restrict is restricted; what a class
 * does not grant is denied, including TCP bind/connect (ABI 4) and signals
 * and abstract unix sockets outside the domain (ABI 6).
 */
enum ll_access {
	LL_RO,		/* read files, list directories */
	LL_RW,		/* LL_RO plus create, write, remove, rename, symlink */
	LL_RX,		/* LL_RO plus execute */
};

struct ll_rule {
	const char	*path;
	enum ll_access	 access;
	int		 optional;	/* a missing path is skipped */
};

int	landlock_abi(void);
int	landlock_confine(const struct ll_rule *, size_t, struct sxerr *);
int	landlock_no_new_privs(struct sxerr *);

#endif
