/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef SSHOPT_H
#define SSHOPT_H

#include <stddef.h>

#include "sxerr.h"

/*
 * The ssh options a tunnel definition may carry, each with the grammar of
 * its value. ssh puts some values (HostName as %h, User as %r, Port,
 * ProxyJump, HostKeyAlias) into Match exec and ProxyCommand lines that
 * /bin/sh runs, so no value may hold anything a shell would act on.
 */
enum sshopt_type {
	SO_HOST,	/* a host as ssh-allow-check validates one */
	SO_NUM,		/* decimal in [lo, hi] */
	SO_CHOICE,	/* one of a '|' list, case-insensitive */
	SO_PATH,	/* /... or ~/... of [A-Za-z0-9._/~+-] */
	SO_USER,	/* a user name */
	SO_JUMP,	/* none, or [user@]host[:port],... */
	SO_ALGS,	/* a list of algorithm names: [A-Za-z0-9@.,+^_-] */
	SO_IFACE,	/* a network interface name */
	SO_OCTAL,	/* a file mode mask, 0 to 0777 */
	SO_SIZE,	/* default, none, or a number with K, M or G */
};

struct sshopt {
	const char	*name;
	enum sshopt_type type;
	long		 lo, hi;	/* SO_NUM */
	const char	*words;		/* SO_CHOICE; other types: also these */
};

int	sshopt_check(const char *, struct sxerr *);
int	sshopt_path(const char *, struct sxerr *);
const struct sshopt *sshopt_table(size_t *);

#endif
