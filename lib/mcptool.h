/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef MCPTOOL_H
#define MCPTOOL_H

#include <poll.h>
#include <stddef.h>

#include <jansson.h>

#include "config.h"
#include "job.h"
#include "policy.h"
#include "sxerr.h"

/*
 * What a tool of ssh-tunnel-mcp is, and what every tool may use: its
 * context, how it waits, its arguments, the policy, the library's words
 * said in the tools' own. The tools live in mcptunnel.c, mcpinfo.c and
 * mcpremote.c, their registry in mcptools.c; all stand on this.
 */
struct mcptool_ctx {
	char	*config;	/* -F, or NULL: the search order */
	char	*bindir;	/* where ssh-tunnel-up is; NULL: PATH */
	json_t	*list;		/* the tools/list array */
};

/*
 * How a tool waits (for a job, for a tunnel to come up) without stopping
 * the session: it calls poll in place of poll(2); the session polls its
 * input too, answers ping at once, keeps other requests for later, and
 * returns -1 with errno ECANCELED once the client has cancelled this
 * call. progress reports how far it is (total 0: unknown); the session
 * passes it on, at most once a second, when the client asked for it.
 * NULL where nobody is served (a test): plain poll(2).
 */
struct mcpwait {
	int	(*poll)(void *, struct pollfd *, nfds_t, int);
	void	(*progress)(void *, double, double, const char *);
	void	*arg;
};

/*
 * What a tool runs: its arguments (checked against its inputSchema), how
 * to wait; the result into the json_t **, or -1 and the error.
 */
typedef int	 mcptool_fn(const struct mcptool_ctx *, json_t *,
		    const struct mcpwait *, json_t **, struct sxerr *);

/* A tool: its name, the rest of its tools/list entry, what it runs. */
struct mcptool {
	const char	*name;
	const char	*def;
	mcptool_fn	*run;
};

/*
 * What the library said while a tool ran it (the warnings a program
 * would have printed), kept to be returned as the tool's messages.
 */
struct mcptool_said {
	char	buf[8192];
	size_t	len;
};

struct lc_ctx;
struct lc_rows;

const char *mcptool_str(const json_t *, const char *, const char *);
int	 mcptool_policy(const struct mcptool_ctx *, struct config **,
	    struct policy **, struct sxerr *);
int	 mcptool_poll(const struct mcpwait *, struct pollfd *, nfds_t, int);
void	 mcptool_progress(const struct mcpwait *, double, double,
	    const char *);
int	 mcptool_job(const struct mcpwait *, struct job *, const char *,
	    const char *, struct sxerr *);
void	 mcptool_lc(const struct mcptool_ctx *, struct lc_ctx *,
	    struct mcptool_said *);
int	 mcptool_said_error(const struct mcptool_said *, int, const char *,
	    struct sxerr *);
void	 mcptool_words(char *, size_t);
int	 mcptool_rows(const struct mcptool_ctx *, const char *, int, int,
	    struct lc_rows *, struct sxerr *);
int	 mcptool_result(json_t **, json_t *, struct sxerr *);

#endif
