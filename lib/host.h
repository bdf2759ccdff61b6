/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef HOST_H
#define HOST_H

#include <stddef.h>

#include "sxerr.h"

#define HOST_MAX	255	/* longest DNS name, without the trailing dot */
#define NAME_MAX_LEN	64	/* tunnel names: [A-Za-z0-9][A-Za-z0-9._-]{0,63} */

struct bastion {
	char	user[33];		/* empty: ssh's default */
	char	host[HOST_MAX + 1];	/* name, alias, or address (no brackets) */
	int	port;			/* 0: ssh's default */
};

int	host_canon(const char *, char *, size_t, struct sxerr *);
int	host_parse_port(const char *, int *, struct sxerr *);
int	host_parse_bastion(const char *, struct bastion *, struct sxerr *);
int	host_fmt_bastion(const struct bastion *, char *, size_t);

#endif
