/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef LIFECYCLE_H
#define LIFECYCLE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdio.h>

#include "backend.h"
#include "config.h"
#include "job.h"
#include "state.h"
#include "sxerr.h"
#include "tunnel.h"

/*
 * A tunnel's life as ssh-tunnel-up, ssh-tunnel-ls, ssh-tunnel-down and
 * ssh-tunnel-mcp see it: the policy gate, a definition made and written,
 * the start through a backend and the wait for the forward, the rows with
 * their state, the stop and the removal of every file. What the programs
 * used to print along the way goes to the caller's note hook, each with a
 * level, so that a program prints it and the MCP server returns it.
 */
enum lc_level {
	LC_ERR,		/* always said */
	LC_INFO,	/* not with -q */
	LC_DEBUG	/* only with -v */
};

struct lc_ctx {
	const char	*config;	/* -F, or NULL: the search order */
	const char	*self;		/* ssh-tunnel-up, run as the supervisor */
	int		 quiet;		/* -q: no LC_INFO to note */
	int		 verbose;	/* -v: LC_DEBUG to note too; passed on
					 * to the supervisor */
	/* What a program would say, with its level; the supervisor's state
	 * changes come as LC_INFO, ssh's own lines as LC_DEBUG. */
	void		(*note)(void *, int, const char *);
	void		*arg;
	/* While waiting for a forward, instead of sleeping ms, if set
	 * (the MCP server serves its client meanwhile); -1 stops the wait. */
	int		(*pause)(void *, int);
	void		*pausearg;
};

/* A tunnel to define or start, as ssh-tunnel-up's flags give it. */
struct lc_req {
	const char	*name;
	const char	*bastion[TUN_BASTION_MAX];
	size_t		 nbastion;
	const char	*key;
	const char	*port;
	const char	*local;		/* local_host:local_port */
	const char	*discovery;	/* --discovery FILE */
	const char	*opt[TUN_OPT_MAX];
	size_t		 nopt;
	const char	*backend;	/* -m, or NULL: the definition's or pick */
	int		 dry;
	int		 quiet;		/* no client block */
};

/* Which tunnels: all, those named, or those with a forward on port. */
struct lc_sel {
	char *const	*names;
	size_t		 nnames;
	int		 port;		/* 0: any */
	int		 all;		/* lc_remove: every defined tunnel */
	int		 defs;		/* lc_list: each row keeps its
					   definition in t (17 KiB a row) */
};

/* What a row keeps of its struct tref: the name, where its state is. */
struct lc_ref {
	char			 name[NAME_MAX_LEN + 1];
	const struct backend	*b;
	const struct places	*pl;
	int			 port;	/* autossh: its unit's PORT; or 0 */
};

/*
 * A row of ssh-tunnel-ls: what it prints, a few hundred bytes, the
 * definition only when asked for (sel->defs): a thousand rows of whole
 * definitions were 42 MB to clear, copy and fault in.
 */
struct lc_row {
	struct lc_ref	 ref;
	int		 loaded;
	int		 port;		/* lc_row_port */
	size_t		 bi;		/* lc_row_bastion */
	char		 bastion[300];
	struct tstate	 st;
	struct tunnel	*t;		/* with sel->defs, if loaded; in
					   the allocation of lc_rows' v */
};

struct lc_rows {
	struct lc_row	*v;		/* the caller's to free */
	size_t		 n;
	int		 bad;		/* a definition did not load, a name
					   unknown: said through the note hook */
};

/* A start through a backend; bastion is the one in use once up. */
struct lc_start {
	const struct tunnel	*t;
	int			 defining;	/* written anew; reloaded if running */
	const struct backend	*b;
	const struct places	*pl;
	long long		 until;		/* now_ms() the wait ends; 0: its
						   own time from now */
	char			 bastion[300];	/* out */
	int			 busy;		/* out: the last look found the
						   bastion there and busy */
};

/* ssh-tunnel-up and the MCP server: define, gate, start; adopt. */
int	lc_default_name(char *, size_t, struct sxerr *);
int	lc_gate(const struct config *, struct sxerr *);
int	lc_gate_rule(const struct config *, int *, char *, size_t,
	    struct sxerr *);
int	lc_tunnel(const struct lc_req *, const char *, struct config **,
	    struct tunnel *, const struct backend **, struct sxerr *);
const struct backend *lc_backend(const char *, const struct backend *,
	    struct sxerr *);
int	lc_dry_run(FILE *, const struct tunnel *, const struct backend *,
	    const struct places *, const char *, struct sxerr *);
int	lc_start(const struct lc_ctx *, struct lc_start *, struct sxerr *);
int	lc_block(FILE *, const struct tunnel *, const char *, struct sxerr *);
int	lc_setup(const struct lc_ctx *, const struct lc_req *, FILE *,
	    struct sxerr *);
int	lc_adopt(const struct lc_ctx *, const struct lc_req *, int, FILE *,
	    struct sxerr *);
int	lc_setup_all(const struct lc_ctx *, const char *, struct sxerr *);

/* ssh-tunnel-up -f: the supervisor of one tunnel, until a signal. */
int	lc_supervise(const struct lc_ctx *, const char *, struct sxerr *);

/* ssh-tunnel-ls and tunnel_status: the rows, their columns, the probe. */
int	lc_list(const struct lc_ctx *, const struct config *,
	    const struct lc_sel *, struct lc_rows *, struct sxerr *);
void	lc_row_set(struct lc_row *, const struct tunnel *);
/* The columns lc_row_set sets, as ssh-tunnel-ls caches them, and back. */
int	lc_row_blob(const struct lc_row *, const struct tunnel *, char **,
	    size_t *);
int	lc_row_from_blob(struct lc_row *, const char *, size_t);
int	lc_row_port(const struct lc_row *);
size_t	lc_row_bastion(const struct lc_row *, char *, size_t);
long long lc_row_uptime(const struct lc_row *);
int	lc_row_probe(const struct lc_row *, char *, size_t);
int	lc_probe_start(const struct lc_row *, struct job *, char *, size_t);
int	lc_probe_end(struct job *, char *, size_t);
#define LC_PROBE_MS	((TUN_CONNECT_TIMEOUT + 5) * 1000)
#define LC_PROBE_UNTIL	"\n"	/* the banner is one line */

/* ssh-tunnel-down and tunnel_remove. */
int	lc_remove(const struct lc_ctx *, const struct config *,
	    const struct lc_sel *, struct sxerr *);

#endif
