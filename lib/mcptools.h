/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef MCPTOOLS_H
#define MCPTOOLS_H

#include <jansson.h>

#include "sxerr.h"

/*
 * The tools ssh-tunnel-mcp offers: each one's tools/list entry (its
 * inputSchema is also what its arguments are checked against) and what
 * it runs, in this process, on the library the ssh-tunnel-* programs are
 * built on. Adding a tool touches this module only.
 */
struct mcptools {
	char	*config;	/* -F, or NULL: the search order */
	char	*bindir;	/* where ssh-tunnel-up is; NULL: PATH */
	json_t	*list;		/* the tools/list array */
};

extern const char mcptools_instructions[];

int	 mcptools_init(struct mcptools *, const char *, const char *);
void	 mcptools_free(struct mcptools *);
int	 mcptools_has(const char *);
json_t	*mcptools_call(const struct mcptools *, const char *, json_t *,
	    struct sxerr *);

#endif
