/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef MCP_H
#define MCP_H

#include <stddef.h>

/*
 * The Model Context Protocol session of ssh-tunnel-mcp: initialize and
 * the version talk, the capabilities, then tools/list and tools/call
 * (lib/mcptools.c) over JSON-RPC 2.0 (lib/jsonrpc.c). mcp_handle() takes
 * one line and yields at most one line to send back; the session never
 * touches stdin or stdout (tools read the config and call the library the
 * ssh-tunnel-* programs are built on; only a supervisor, ssh-tunnel-up -f
 * from mcp_new's directory, runs apart), so a test or a fuzzer drives it
 * directly.
 */
struct mcp;

struct mcp	*mcp_new(const char *, const char *);
void		 mcp_free(struct mcp *);
int		 mcp_handle(struct mcp *, const char *, size_t, char **);
int		 mcp_oversized(struct mcp *, char **);
const char	*mcp_note(const struct mcp *, int *);

#endif
