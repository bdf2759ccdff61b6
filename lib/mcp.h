/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef MCP_H
#define MCP_H

#include <stddef.h>

#include "sxerr.h"

/*
 * The Model Context Protocol server of ssh-tunnel-mcp: JSON-RPC 2.0 messages,
 * one a line. mcp_handle() takes one line and yields at most one line to
 * send back; the session never touches stdin or stdout (tools read the
 * config and call the library the ssh-tunnel-* programs are built on;
 * only a supervisor, ssh-tunnel-up -f from mcp_new's directory, runs
 * apart), so a test or a fuzzer drives it directly. mcp_read() cuts a byte stream into
 * lines of at most MCP_LINE_MAX bytes.
 */
#define MCP_LINE_MAX	(1024 * 1024)

struct mcp;

struct mcp	*mcp_new(const char *, const char *);
void		 mcp_free(struct mcp *);
int		 mcp_handle(struct mcp *, const char *, size_t, char **);
int		 mcp_oversized(struct mcp *, char **);
const char	*mcp_note(const struct mcp *, int *);

enum mcp_read { MCP_LINE, MCP_TOOLONG, MCP_EOF };

struct mcp_reader {
	char	*buf;		/* MCP_LINE_MAX + 2 bytes */
	size_t	 len;		/* bytes held */
	size_t	 off;		/* start of the next line */
	size_t	 scan;		/* bytes from off known to hold no newline */
	int	 skip;		/* discarding an oversized line */
	int	 eof;
};

int	mcp_reader_init(struct mcp_reader *, struct sxerr *);
void	mcp_reader_free(struct mcp_reader *);
int	mcp_read(struct mcp_reader *, int, char **, size_t *, struct sxerr *);

#endif
