/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef MCPTOOLS_H
#define MCPTOOLS_H

#include <jansson.h>

#include "mcptool.h"
#include "sxerr.h"

/*
 * The tools ssh-tunnel-mcp offers, all modules' together: tools/list
 * (each entry's inputSchema is also what a call's arguments are checked
 * against) and the call of one by name.
 */
extern const char mcptools_instructions[];

int	 mcptools_init(struct mcptool_ctx *, const char *, const char *);
void	 mcptools_free(struct mcptool_ctx *);
int	 mcptools_has(const char *);
json_t	*mcptools_call(const struct mcptool_ctx *, const char *, json_t *,
	    const struct mcpwait *, struct sxerr *);

#endif
