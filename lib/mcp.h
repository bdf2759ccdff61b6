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
 *
 * A tool that waits (a job on a remote host, a tunnel coming up) lets
 * the session serve meanwhile, once mcp_io has given it the caller's
 * reader and input fd and a way to send a message at once: ping is
 * answered, progress is sent when the call asked for it, a cancel of
 * the call ends the wait and its response is never sent; every other
 * message read meanwhile is kept, in order, for mcp_queued, which the
 * caller empties before it reads more.
 */
struct mcp;
struct jsonrpc_reader;

struct mcp	*mcp_new(const char *, const char *);
void		 mcp_io(struct mcp *, struct jsonrpc_reader *, int,
		    int (*)(void *, const char *), void *);
int		 mcp_queued(struct mcp *, char **, size_t *);
void		 mcp_free(struct mcp *);
int		 mcp_handle(struct mcp *, const char *, size_t, char **);
int		 mcp_oversized(struct mcp *, char **);
const char	*mcp_note(const struct mcp *, int *);

#endif
