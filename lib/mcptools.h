/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef MCPTOOLS_H
#define MCPTOOLS_H

#include <poll.h>

#include <jansson.h>

#include "config.h"
#include "job.h"
#include "policy.h"
#include "sxerr.h"

/*
 * The tools ssh-tunnel-mcp offers: each one's tools/list entry (its
 * inputSchema is also what its arguments are checked against) and what
 * it runs, in this process, on the library the ssh-tunnel-* programs are
 * built on. The tunnel tools and allow_check are here, the read-only
 * helpers in mcpinfo.c, scitex-ssh 1.0's remote primitives in
 * mcpremote.c.
 */
struct mcptools {
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
typedef int	 mcptool_fn(const struct mcptools *, json_t *,
		    const struct mcpwait *, json_t **, struct sxerr *);

/* A tool: its name, the rest of its tools/list entry, what it runs. */
struct mcptool {
	const char	*name;
	const char	*def;
	mcptool_fn	*run;
};

extern const char mcptools_instructions[];

int	 mcptools_init(struct mcptools *, const char *, const char *);
void	 mcptools_free(struct mcptools *);
int	 mcptools_has(const char *);
json_t	*mcptools_call(const struct mcptools *, const char *, json_t *,
	    const struct mcpwait *, struct sxerr *);

struct lc_rows;

/* For the tools of other modules (mcpinfo.c, mcpremote.c). */
int	 mcptools_rows(const struct mcptools *, const char *, int,
	    struct lc_rows *, struct sxerr *);
const char *mcptools_str(const json_t *, const char *, const char *);
int	 mcptools_policy(const struct mcptools *, struct config **,
	    struct policy **, struct sxerr *);
int	 mcptools_poll(const struct mcpwait *, struct pollfd *, nfds_t, int);
void	 mcptools_progress(const struct mcpwait *, double, double,
	    const char *);
int	 mcptools_job(const struct mcpwait *, struct job *, const char *,
	    const char *, struct sxerr *);

#endif
