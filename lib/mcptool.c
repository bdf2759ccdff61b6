/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/param.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "mcptool.h"
#include "now.h"
#include "out.h"

/* A string argument, or dflt when it was not given. */
const char *
mcptool_str(const json_t *args, const char *key, const char *dflt)
{
	const json_t *v = json_object_get(args, key);

	return v != NULL ? json_string_value(v) : dflt;
}

/* The policy, read afresh on every call as ssh-allow-check reads it. */
int
mcptool_policy(const struct mcptool_ctx *m, struct config **cf,
    struct policy **p, struct sxerr *e)
{
	if (config_open(m->config, cf, e) == -1)
		return -1;
	if (policy_load(*cf, p, e) == -1) {
		config_free(*cf);
		return -1;
	}
	return 0;
}

/* poll(2) through the session, which serves the client meanwhile. */
int
mcptool_poll(const struct mcpwait *w, struct pollfd *fds, nfds_t n, int ms)
{
	if (w == NULL || w->poll == NULL)
		return poll(fds, n, ms);
	return w->poll(w->arg, fds, n, ms);
}

void
mcptool_progress(const struct mcpwait *w, double done, double total,
    const char *msg)
{
	if (w != NULL && w->progress != NULL)
		w->progress(w->arg, done, total, msg);
}

/*
 * Every tool that runs a program waits for it here, so that each one
 * serves the client alike: the started job j is stepped to its end
 * through the session (ping answered, progress with msg at least once a
 * second, a cancel kills it). until, unless NULL, ends the job as soon
 * as its stdout holds that text: a probe needs one line, not the end.
 * 0 once done; -1 (EX_TEMPFAIL "cancelled", or an error) with the job
 * ended, its child reaped.
 */
int
mcptool_job(const struct mcpwait *w, struct job *j, const char *msg,
    const char *until, struct sxerr *e)
{
	struct pollfd pfd[JOB_NFDS];
	long long limit = j->deadline - j->start;
	int n, ms, err;

	while (!j->done) {
		n = job_pollfds(j, pfd, JOB_NFDS);
		ms = job_timeout(j);
		if (mcptool_poll(w, pfd, (nfds_t)n, ms > 1000 || ms < 0 ?
		    1000 : ms) == -1 && errno != EINTR) {
			err = errno;
			job_cancel(j);
			if (err == ECANCELED)
				return sxerr_set(e, EX_TEMPFAIL, "cancelled");
			errno = err;
			return sxerr_errno(e, EX_OSERR, "poll");
		}
		if (job_step(j, e) == -1)
			return -1;
		if (until != NULL && j->out.buf != NULL &&
		    strstr(j->out.buf, until) != NULL)
			job_cancel(j);
		mcptool_progress(w, (double)(now_ms() - j->start) / 1000,
		    limit < INT_MAX ? (double)limit / 1000 : 0, msg);
	}
	return 0;
}

/*
 * The tunnel tools call the library the ssh-tunnel-* programs are built
 * on, in this process: the same gate, locks, waits and messages, so an
 * agent meets exactly what a person meets. What a program would have
 * warned along the way is kept here and returned as messages.
 */
static void
collect(void *arg, int level, const char *msg)
{
	struct mcptool_said *s = arg;
	char m[1024];
	int n;

	if (level == LC_DEBUG || s->len >= sizeof(s->buf) - 1)
		return;
	strlcpy(m, msg, sizeof(m));
	mcptool_words(m, sizeof(m));
	n = snprintf(s->buf + s->len, sizeof(s->buf) - s->len, "%s%s",
	    s->len > 0 ? "\n" : "", m);
	if (n > 0)
		s->len = MIN(s->len + (size_t)n, sizeof(s->buf) - 1);
}

void
mcptool_lc(const struct mcptool_ctx *m, struct lc_ctx *c,
    struct mcptool_said *s)
{
	memset(c, 0, sizeof(*c));
	memset(s, 0, sizeof(*s));
	c->config = m->config;
	c->verbose = out_debug_env();
	c->note = collect;
	c->arg = s;
}

/* What was said is the tool's error; ex is the program's exit status. */
int
mcptool_said_error(const struct mcptool_said *s, int ex, const char *what,
    struct sxerr *e)
{
	if (s->len > 0)
		return sxerr_set(e, ex, "%s", s->buf);
	return sxerr_set(e, ex, "%s: failed", what);
}

/*
 * The library speaks the programs' language (flags, program names); a
 * tool's caller knows arguments and tools. Phrases of the one, said in
 * the other, in place.
 */
static const char *const words[][2] = {
	{ "give -b or set SCITEX_SSH_BASTION_SERVER",
	  "give bastion (or set SCITEX_SSH_BASTION_SERVER)" },
	{ "no remote port: give -p", "no remote port: give port" },
	{ "-s, -l and -o define a tunnel: give -p and -b too",
	  "key, forwards and ssh_options define a tunnel: give port and "
	  "bastion too" },
	{ "define it with -p and -b", "define it with port and bastion" },
	{ "see ssh-tunnel-ls", "call tunnel_status to follow it, "
	  "tunnel_remove to stop it" },
	{ "another ssh-tunnel-up or ssh-tunnel-down is at work",
	  "another call (or ssh-tunnel-up or -down) is at work" },
	{ "use -m daemon", "use backend daemon" },
	{ "use -m user", "use backend user" },
	{ "or -m user", "or backend user" },
	{ "-b: ", "bastion: " },
	{ "-p: ", "port: " },
	{ "-l: ", "forwards: " },
	{ "-o: ", "ssh_options: " },
	{ "-s: ", "key: " },
};

void
mcptool_words(char *msg, size_t sz)
{
	char buf[2048], *at;
	size_t i, n;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		while ((at = strstr(msg, words[i][0])) != NULL) {
			n = (size_t)(at - msg);
			snprintf(buf, sizeof(buf), "%.*s%s%s", (int)n, msg,
			    words[i][1], at + strlen(words[i][0]));
			strlcpy(msg, buf, sz);
		}
}

/*
 * The rows of ssh-tunnel-ls, with name or port (or neither), into *rows
 * (rows->v the caller's to free); a name it does not know is an error.
 * With defs each row keeps its whole definition (r->t), for a probe or
 * a client block; 17 KiB a row, so only then.
 */
int
mcptool_rows(const struct mcptool_ctx *m, const char *name, int port,
    int defs, struct lc_rows *rows, struct sxerr *e)
{
	char *names[1] = { (char *)name };
	struct lc_sel sel = { names, name != NULL, port, 0, defs };
	struct config *cf;
	struct lc_ctx c;
	struct mcptool_said s;
	int rc;

	mcptool_lc(m, &c, &s);
	if (config_open(m->config, &cf, e) == -1)
		return -1;
	rc = lc_list(&c, cf, &sel, rows, e);
	config_free(cf);
	if (rc == -1)
		return -1;
	if (rows->n == 0 && rows->bad) {
		free(rows->v);
		return mcptool_said_error(&s, 1, "ssh-tunnel-ls", e);
	}
	return 0;
}

/* A tool's result, v, into *res: -1 when building it ran out of memory. */
int
mcptool_result(json_t **res, json_t *v, struct sxerr *e)
{
	*res = v;
	return v == NULL ? sxerr_set(e, EX_OSERR, "out of memory") : 0;
}
