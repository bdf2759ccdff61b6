/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef LEGACY_H
#define LEGACY_H

#include <stddef.h>

#include "sxerr.h"
#include "tunnel.h"

/*
 * The units scitex-ssh 1.0 wrote, autossh-tunnel-PORT.service, read back
 * into what a tunnel definition needs. Only what that tool could have
 * written is understood; anything else is refused, never guessed.
 */
#define LEGACY_PREFIX	"autossh-tunnel-"
#define LEGACY_NFWD	8
#define LEGACY_NOPT	16
#define LEGACY_STR	300

struct legacy {
	char	 path[4096];		/* the unit file */
	int	 port;			/* PORT of the file name */
	int	 user_unit;		/* found in the user's unit directory */
	char	 runas[33];		/* User=, "" when absent */
	char	 bastion[LEGACY_STR];	/* [user@]host[:port] */
	char	 key[LEGACY_STR];	/* -i, "" when absent */
	char	 fwd[LEGACY_NFWD][LEGACY_STR];	/* "R 2222:localhost:22" */
	size_t	 nfwd;
	char	 opt[LEGACY_NOPT][LEGACY_STR];	/* -o values we keep */
	size_t	 nopt;
	char	 problem[LEGACY_STR];	/* why it could not be read; "" */
};

int	legacy_port(const char *);
int	legacy_name_port(const char *);
int	legacy_parse(const char *, struct legacy *, struct sxerr *);
int	legacy_read(const char *, struct legacy *, struct sxerr *);
int	legacy_list_dir(const char *, int, struct legacy **, size_t *,
	    struct sxerr *);
int	legacy_list(struct legacy **, size_t *, struct sxerr *);
int	legacy_find(int, struct legacy *, struct sxerr *);
int	legacy_unit_name(int, char *, size_t);
int	legacy_tunnel(const struct legacy *, const char *, struct tunnel *,
	    struct sxerr *);

#endif
