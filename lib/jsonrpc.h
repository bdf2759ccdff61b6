/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef JSONRPC_H
#define JSONRPC_H

#include <stddef.h>

#include <jansson.h>

#include "sxerr.h"

/*
 * JSON-RPC 2.0 over a byte stream, one message a line, as MCP's stdio
 * transport frames it. jsonrpc_handle() takes one line, checks the
 * envelope (batches, ids, notifications, stray responses) and hands each
 * request to the session's request hook; it yields at most one line to
 * send back. jsonrpc_read() cuts a byte stream into lines of at most
 * JSONRPC_LINE_MAX bytes.
 */
#define JSONRPC_LINE_MAX	(1024 * 1024)

/* Error codes of the specification. */
#define RPC_PARSE	-32700
#define RPC_REQUEST	-32600
#define RPC_METHOD	-32601
#define RPC_PARAMS	-32602

struct jsonrpc {
	/* A request: the response (reply or error); NULL only out of memory. */
	json_t	*(*request)(void *arg, json_t *id, const char *method,
		    json_t *params, int inbatch);
	/* A notification: never answered. */
	void	 (*notify)(void *arg, const char *method);
	void	 *arg;
	char	 note[512];	/* what happened to the last line, for a log */
	int	 noteerr;	/* it drew a protocol error */
};

void	 jsonrpc_note(struct jsonrpc *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
json_t	*jsonrpc_text(const char *);
json_t	*jsonrpc_reply(json_t *, json_t *);
json_t	*jsonrpc_error(struct jsonrpc *, json_t *, int, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
int	 jsonrpc_handle(struct jsonrpc *, const char *, size_t, char **);
int	 jsonrpc_oversized(struct jsonrpc *, char **);

enum jsonrpc_read { JSONRPC_LINE, JSONRPC_TOOLONG, JSONRPC_EOF };

struct jsonrpc_reader {
	char	*buf;		/* JSONRPC_LINE_MAX + 2 bytes */
	size_t	 len;		/* bytes held */
	size_t	 off;		/* start of the next line */
	size_t	 scan;		/* bytes from off known to hold no newline */
	int	 skip;		/* discarding an oversized line */
	int	 eof;
};

int	jsonrpc_reader_init(struct jsonrpc_reader *, struct sxerr *);
void	jsonrpc_reader_free(struct jsonrpc_reader *);
int	jsonrpc_read(struct jsonrpc_reader *, int, char **, size_t *,
	    struct sxerr *);

#endif
