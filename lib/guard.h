/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef GUARD_H
#define GUARD_H

#include <limits.h>
#include <stddef.h>

#include "config.h"
#include "landlock.h"
#include "sxerr.h"

/*
 * ssh-copy-guard's decisions, kept free of side effects other than lstat
 * and readlink so that they can be tested and fuzzed: the roots, the
 * word splitting of SSH_ORIGINAL_COMMAND (quotes and backslashes as sh(1)
 * has them, every expansion refused), the allowlists of scp, sftp-server
 * and rsync --server, the path policy, and the Landlock rules that follow.
 */
#define GUARD_ROOTS_MAX	32
#define GUARD_CMD_MAX	65536	/* longest SSH_ORIGINAL_COMMAND taken */
#define GUARD_WORDS_MAX	1024
#define GUARD_RULES_MAX	(GUARD_ROOTS_MAX + 16)

#ifndef GUARD_SCP
#define GUARD_SCP	"/usr/bin/scp"
#endif
#ifndef GUARD_RSYNC
#define GUARD_RSYNC	"/usr/bin/rsync"
#endif
#ifndef GUARD_SFTP_SERVER
#define GUARD_SFTP_SERVER	"/usr/lib/openssh/sftp-server"
#endif

struct guard_root {
	char	path[PATH_MAX];	/* canonical, no trailing slash but "/" */
	int	rw;
};

struct guard {
	struct guard_root root[GUARD_ROOTS_MAX];
	size_t	nroot;
	int	require_landlock;
	char	sftp_server[PATH_MAX];
};

enum guard_kind { GK_SCP, GK_SFTP, GK_RSYNC };

struct guard_cmd {
	enum guard_kind	 kind;
	int		 writes;	/* may create or change files */
	const char	*needs_ll;	/* why only Landlock can confine it */
	size_t		 walk0, nwalk;	/* argv[walk0..]: trees it recurses */
	int		 walk_rw;	/* ... and writes to */
	const char	*prog;		/* absolute path to execute */
	char		 interp[PATH_MAX];	/* prog's ELF interpreter */
	const char	*argv[GUARD_WORDS_MAX + 8];
	size_t		 argc;
	char		*word[GUARD_WORDS_MAX];
	size_t		 nword;
	char		 buf[GUARD_CMD_MAX + 1];
};

void	guard_init(struct guard *);
int	guard_add_root(struct guard *, const char *, struct sxerr *);
int	guard_config(struct guard *, const struct config *, int,
	    struct sxerr *);
int	guard_check(const struct guard *, const char *, struct sxerr *);
int	guard_split(const char *, size_t, struct guard_cmd *, struct sxerr *);
int	guard_parse(const struct guard *, const char *, size_t,
	    struct guard_cmd *, struct sxerr *);
int	guard_path(const struct guard *, const char *, const char *, int,
	    struct sxerr *);
int	guard_links(const struct guard *, const struct guard_cmd *,
	    struct sxerr *);
int	guard_resolve(const char *, const char *, char *, struct sxerr *);
const struct guard_root *guard_holder(const struct guard *, const char *);
size_t	guard_rules(const struct guard *, struct guard_cmd *,
	    struct ll_rule *, size_t);

#endif
