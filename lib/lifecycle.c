/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "discovery.h"
#include "host.h"
#include "lifecycle.h"
#include "lifecycle-priv.h"
#include "now.h"
#include "policy.h"
#include "sshbin.h"
#include "slurp.h"
#include "text.h"

#define YAML_MAX	65536	/* a definition as YAML, a unit */

/* What a program would say, at its -q or -v, to the caller's note hook. */
void
lc_say(const struct lc_ctx *c, int level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (c == NULL || c->note == NULL || (level == LC_INFO && c->quiet) ||
	    (level == LC_DEBUG && !c->verbose))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->note(c->arg, level, msg);
}

/* The short local host name: the default tunnel name. */
int
lc_default_name(char *buf, size_t sz, struct sxerr *e)
{
	char h[HOST_MAX + 1];

	if (gethostname(h, sizeof(h)) == -1)
		return sxerr_errno(e, EX_OSERR, "gethostname");
	h[sizeof(h) - 1] = '\0';
	h[strcspn(h, ".")] = '\0';
	strlcpy(buf, h, sz);
	return tunnel_valid_name(buf, e);
}

/* Feature "tunnels" for the local host name: *p loaded, *d decided. */
static int
gate_decide(const struct config *cf, struct policy **p, char *host,
    size_t sz, struct decision *d, struct sxerr *e)
{
	char h[HOST_MAX + 1];

	if (policy_load(cf, p, e) == -1)
		return -1;
	if (gethostname(h, sizeof(h)) == -1) {
		policy_free(*p);
		return sxerr_errno(e, EX_OSERR, "gethostname");
	}
	h[sizeof(h) - 1] = '\0';
	if (host_canon(h, host, sz, e) == -1) {
		policy_free(*p);
		lc_prefixed(e, "local host name");
		e->ex = EX_NOPERM;
		return -1;
	}
	policy_decide(*p, host, "tunnels", d);
	return 0;
}

/* The gate's decision and the rule that made it, without acting on it. */
int
lc_gate_rule(const struct config *cf, int *allow, char *why, size_t sz,
    struct sxerr *e)
{
	char host[HOST_MAX + 1];
	struct policy *p;
	struct decision d;

	if (gate_decide(cf, &p, host, sizeof(host), &d, e) == -1)
		return -1;
	*allow = d.allow;
	policy_explain(&d, host, why, sz);
	policy_free(p);
	return 0;
}

/*
 * Feature "tunnels" for the local host name, as scitex-ssh 1.0 asked. A
 * denial says which file to edit and what to put there.
 */
int
lc_gate(const struct config *cf, struct sxerr *e)
{
	char host[HOST_MAX + 1], why[1024], dflt[4096];
	struct policy *p;
	struct decision d;

	if (gate_decide(cf, &p, host, sizeof(host), &d, e) == -1)
		return -1;
	if (d.allow) {
		policy_free(p);
		return 0;
	}
	policy_explain(&d, host, why, sizeof(why));
	if (d.by == DEC_NOFILE) {
		if (config_default_path(dflt, sizeof(dflt)) == -1)
			strlcpy(dflt, "~/.config/scitex-ssh/config.yaml",
			    sizeof(dflt));
		sxerr_set(e, EX_NOPERM, "tunnels from %s: denied: no config "
		    "file (looked in %s); to allow, create %s with:\n"
		    "hosts:\n  %s: {tunnels: allow}", host, p->searched, dflt,
		    host);
	} else
		sxerr_set(e, EX_NOPERM, "tunnels from %s: denied by %s; to "
		    "allow, add first under hosts: in %s:\n  %s: {tunnels: "
		    "allow}", host, why, d.path, host);
	policy_free(p);
	return -1;
}

/* An absolute key path: ~/... is kept for the definition to expand. */
static int
key_arg(const char *s, char *buf, size_t sz, struct sxerr *e)
{
	char cwd[PATH_MAX];

	if (s[0] == '/' || (s[0] == '~' && s[1] == '/')) {
		if (strlcpy(buf, s, sz) >= sz)
			return sxerr_set(e, EX_DATAERR, "%.80s: path too long", s);
		return 0;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return sxerr_errno(e, EX_OSERR, "getcwd");
	if ((size_t)snprintf(buf, sz, "%s/%s", cwd, s) >= sz)
		return sxerr_set(e, EX_DATAERR, "%.80s: path too long", s);
	return 0;
}

/* "-b: why": what went wrong, said before the library's message. */
int
lc_prefixed(struct sxerr *e, const char *fmt, ...)
{
	char msg[sizeof(e->msg)], what[256];
	va_list ap;

	strlcpy(msg, e->msg, sizeof(msg));
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return sxerr_set(e, e->ex, "%s: %.900s", what, msg);
}

static int
define_bastions(struct tunnel *t, const struct lc_req *q, struct sxerr *e)
{
	const char *env;
	size_t i;

	for (i = 0; i < q->nbastion; i++)
		if (host_parse_bastion(q->bastion[i], &t->bastion[i], e) == -1)
			return lc_prefixed(e, "-b");
	t->nbastion = q->nbastion;
	if (t->nbastion == 0 &&
	    (env = getenv("SCITEX_SSH_BASTION_SERVER")) != NULL && *env) {
		if (host_parse_bastion(env, &t->bastion[0], e) == -1)
			return lc_prefixed(e, "SCITEX_SSH_BASTION_SERVER");
		t->nbastion = 1;
	}
	if (t->nbastion == 0)
		return sxerr_set(e, EX_USAGE, "%s: no bastion: give -b or set "
		    "SCITEX_SSH_BASTION_SERVER", q->name);
	return 0;
}

static int
define_forward(struct tunnel *t, const struct lc_req *q, struct sxerr *e)
{
	char spec[600];
	int port;

	if (q->port == NULL)
		return sxerr_set(e, EX_USAGE, "%s: no remote port: give -p",
		    q->name);
	if (host_parse_port(q->port, &port, e) == -1)
		return lc_prefixed(e, "-p");
	if (q->local != NULL && !text_printable(q->local))
		return sxerr_set(e, EX_DATAERR, "-l: control characters");
	snprintf(spec, sizeof(spec), "R %d:%.500s", port,
	    q->local != NULL ? q->local : "localhost:22");
	e->msg[0] = '\0';
	if (tunnel_parse_forward(spec, &t->fwd[0], e) == -1 ||
	    t->fwd[0].bind[0] != '\0') {
		if (e->msg[0] == '\0')
			return sxerr_set(e, EX_DATAERR, "-l: %.200s: want "
			    "local_host:local_port", q->local);
		e->ex = EX_DATAERR;
		return lc_prefixed(e, "-l: %.200s: want local_host:local_port",
		    q->local);
	}
	t->nfwd = 1;
	return 0;
}

/*
 * --discovery FILE: the L forward to the target FILE names, on -l
 * [bind:]port (else 127.0.0.1 and the remote port), -p a fixed remote
 * port (else the file's).
 */
static int
define_discovery(struct tunnel *t, const struct lc_req *q, struct sxerr *e)
{
	char file[TUN_PATH_MAX];
	int port = 0;

	if (q->port != NULL && host_parse_port(q->port, &port, e) == -1)
		return lc_prefixed(e, "-p");
	if (q->local != NULL && !text_printable(q->local))
		return sxerr_set(e, EX_DATAERR, "-l: control characters");
	if (key_arg(q->discovery, file, sizeof(file), e) == -1 ||
	    tunnel_set_discovery(t, file, q->local, port, e) == -1)
		return lc_prefixed(e, "--discovery");
	return 0;
}

/* Whether q defines its tunnel anew (else it names one defined). */
static int
defines(const struct lc_req *q)
{
	return q->nbastion > 0 || q->port != NULL || q->discovery != NULL;
}

/* A new definition from the request and the environment. */
static int
define(struct tunnel *t, const struct lc_req *q, struct sxerr *e)
{
	char key[TUN_PATH_MAX];
	const char *env;
	size_t i;

	tunnel_init(t, q->name);
	if (define_bastions(t, q, e) == -1 || (q->discovery != NULL ?
	    define_discovery(t, q, e) : define_forward(t, q, e)) == -1)
		return -1;
	if ((env = q->key) != NULL ||
	    ((env = getenv("SCITEX_SSH_SECRET_KEY_PATH")) != NULL && *env)) {
		if (key_arg(env, key, sizeof(key), e) == -1 ||
		    tunnel_valid_key(key, e) == -1)
			return -1;
		strlcpy(t->key, key, sizeof(t->key));
	}
	for (i = 0; i < q->nopt; i++)
		if (tunnel_add_option(t, q->opt[i], e) == -1)
			return lc_prefixed(e, "-o");
	return 0;
}

/*
 * lc_tunnel, and where the definition is read from into r: r->b its
 * backend and r->path its file (NULL and "" when it is defined anew).
 */
static int
tunnel_src(const struct lc_req *q, const char *config, struct config **cfp,
    struct tunnel *t, struct tref *r, struct sxerr *e)
{
	int rc;

	r->b = NULL;
	r->path[0] = '\0';
	*cfp = NULL;
	if (defines(q) && define(t, q, e) == -1)
		return -1;
	if (config_open(config, cfp, e) == -1)
		return -1;
	if (defines(q))
		return 0;
	if ((rc = backend_lookup(*cfp, q->name, r, e)) == 0) {
		if (q->key || q->local || q->nopt)
			rc = sxerr_set(e, EX_USAGE, "%s: -s, -l and -o define "
			    "a tunnel: give -p and -b too", q->name);
		else
			rc = backend_load(*cfp, r, t, e);
	} else if (rc == 1)
		rc = sxerr_set(e, 1, "%s: no such tunnel; define it with -p "
		    "and -b", q->name);
	if (rc == -1) {
		config_free(*cfp);
		*cfp = NULL;
	}
	return rc;
}

/*
 * The tunnel q names: defined anew from its flags (-b or -p given, *bp
 * NULL), else the definition already there (*bp its backend). The config
 * file is opened into *cfp, which the caller frees; on error it is NULL.
 */
int
lc_tunnel(const struct lc_req *q, const char *config, struct config **cfp,
    struct tunnel *t, const struct backend **bp, struct sxerr *e)
{
	struct tref r;
	int rc;

	rc = tunnel_src(q, config, cfp, t, &r, e);
	*bp = rc == 0 ? r.b : NULL;
	return rc;
}

/*
 * What can be checked before anything is written or started: backend b
 * can run t read from src ("" or NULL: written anew). Its warning, if it
 * has one, is said.
 */
int
lc_check(const struct lc_ctx *c, const struct backend *b,
    const struct tunnel *t, const char *src, struct sxerr *e)
{
	char note[512];

	note[0] = '\0';
	if (b->check != NULL && b->check(b, t, src != NULL && *src != '\0' ?
	    src : NULL, note, sizeof(note), e) == -1)
		return lc_prefixed(e, "%s: backend %s", t->name, b->name);
	if (note[0] != '\0')
		lc_say(c, LC_INFO, "%s", note);
	return 0;
}

/* The backend -m names (it must work here), else dflt, else the first. */
const struct backend *
lc_backend(const char *mflag, const struct backend *dflt, struct sxerr *e)
{
	const struct backend *b;

	if (mflag != NULL) {
		if ((b = backend_find(mflag, e)) == NULL) {
			lc_prefixed(e, "-m");
			return NULL;
		}
		if (b->available(b, e) == -1) {
			lc_prefixed(e, "backend %s", b->name);
			return NULL;
		}
		return b;
	}
	if (dflt != NULL)
		return dflt;
	if ((b = backend_pick(e)) == NULL)
		lc_prefixed(e, "no backend works here");
	return b;
}

/*
 * The exact argv of each bastion, to fp; for a discovery forward, to the
 * target its file names now (when it names none, why).
 */
static int
dry_argv(FILE *fp, const struct tunnel *t0, struct sxerr *e)
{
	struct sshargv *a;
	struct tunnel *t;
	struct dtarget d;
	size_t i, j;
	int rc = -1;

	a = malloc(sizeof(*a));
	if (a == NULL || (t = malloc(sizeof(*t))) == NULL) {
		free(a);
		return sxerr_errno(e, EX_OSERR, "malloc");
	}
	*t = *t0;
	if (t->disc.file[0] != '\0') {
		if (discovery_read(t, &d, e) == -1) {
			fprintf(fp, "# discovery: %s; ssh starts once the file "
			    "names a target\n", e->msg);
			rc = 0;
			goto out;
		}
		discovery_point(t, &d);
	}
	for (i = 0; i < t->nbastion; i++) {
		if (tunnel_argv(t, i, ssh_bin(), 0, a, e) == -1)
			goto out;
		fprintf(fp, "# ssh, bastion %zu of %zu\n", i + 1, t->nbastion);
		for (j = 0; j < a->argc; j++)
			fprintf(fp, "%s%s", j ? " " : "", a->argv[j]);
		fputc('\n', fp);
	}
	rc = 0;
 out:
	free(t);
	free(a);
	return rc;
}

int
lc_dry_run(FILE *fp, const struct tunnel *t, const struct backend *b,
    const struct places *pl, const char *self, struct sxerr *e)
{
	char *buf;
	int rc = -1;

	if ((buf = malloc(YAML_MAX)) == NULL)
		return sxerr_errno(e, EX_OSERR, "malloc");
	if (tunnel_yaml(t, buf, YAML_MAX, e) == -1)
		goto out;
	fprintf(fp, "# %s/%s.yaml\n%s", pl->defs, t->name, buf);
	if (b->unit_text == NULL)
		fprintf(fp, "# backend %s: no unit\n", b->name);
	else if (b->unit_text(b, t, self, buf, YAML_MAX, e) == -1)
		goto out;
	else
		fprintf(fp, "# backend %s: unit\n%s", b->name, buf);
	rc = dry_argv(fp, t, e);
out:
	free(buf);
	return rc;
}

/*
 * The definition of t into pl->defs: 0 written, 1 there already byte for
 * byte (left untouched: unchanged means untouched), -1 on error.
 */
static int
write_def(const struct tunnel *t, const struct places *pl, struct sxerr *e)
{
	char path[STATE_PATH], *buf, *old;
	size_t len, have;
	int rc = -1;

	if ((buf = malloc(2 * YAML_MAX)) == NULL)
		return sxerr_errno(e, EX_OSERR, "malloc");
	old = buf + YAML_MAX;
	if (tunnel_yaml(t, buf, YAML_MAX, e) == -1 ||
	    state_mkdir_mode(pl->defs, pl->defsmode ? pl->defsmode : 0700,
	    e) == -1)
		goto out;
	len = strlen(buf);
	if (state_path(path, sizeof(path), pl->defs, t->name, ".yaml") == -1)
		sxerr_set(e, EX_OSERR, "%s: path too long", pl->defs);
	else if (slurp(path, O_NOFOLLOW, old, YAML_MAX, &have) == 0 &&
	    have == len && memcmp(old, buf, len) == 0)
		rc = 1;
	else
		rc = state_write_file(path, buf, len, 0600, STATE_DURABLE,
		    e);
out:
	free(buf);
	return rc;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Wait ms: through the caller's pause hook when it has one (-1: stop). */
int
lc_pause(const struct lc_ctx *c, int ms)
{
	if (c != NULL && c->pause != NULL)
		return c->pause(c->pausearg, ms);
	sleep_ms(ms);
	return 0;
}

/*
 * One look at the supervisor's state: the forward confirmed (0, the
 * bastion in use in s->bastion), a first failure reported (1, it keeps
 * trying; e says it), or neither yet (2), in an attempt numbered
 * min_restarts or later; a supervisor of ours that has exited early is
 * an error with its status.
 */
int
lc_look_up(struct lc_start *s, pid_t child, unsigned min_restarts,
    struct sxerr *e)
{
	const struct tunnel *t = s->t;
	const struct places *pl = s->pl;
	char path[STATE_PATH];
	struct tstate st;
	struct sxerr ignore;
	int status;

	if (state_path(path, sizeof(path), pl->state, t->name, ".state") ==
	    -1) {
		sxerr_set(e, EX_OSERR, "state path too long");
		return 1;
	}
	if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			sxerr_set(e, WEXITSTATUS(status), "%s: the supervisor "
			    "exited; see %s/%s.log", t->name, pl->state,
			    t->name);
		else
			sxerr_set(e, EX_OSERR, "%s: the supervisor died; see "
			    "%s/%s.log", t->name, pl->state, t->name);
		return -1;
	}
	/* No word yet from a supervisor of ours that runs (a unit's is
	 * not ours to see): a machine too busy to start it (5 of 500 lab
	 * machines booting together, after 10 s). */
	s->busy = child > 0;
	if (state_read(path, &st, &ignore) == -1)
		return 2;
	s->busy = 0;
	if (st.restarts < min_restarts)
		return 2;
	/* Throttled, or connected and still in the handshake (a dead path
	 * times out within TUN_CONNECT_TIMEOUT, and says so). */
	s->busy = strcmp(st.reason, "throttled") == 0 ||
	    (strcmp(st.state, "connecting") == 0 && st.reason[0] == '\0');
	if (strcmp(st.state, "up") == 0) {
		strlcpy(s->bastion, st.bastion, sizeof(s->bastion));
		return 0;
	}
	/*
	 * A bastion there and busy (sshd dropped the connection past
	 * MaxStartups, or took too long to answer) says nothing of the
	 * tunnel: waited out, as a herd of lab machines booting together
	 * meets.
	 */
	if (strcmp(st.state, "backoff") == 0 &&
	    strcmp(st.reason, "throttled") != 0 &&
	    strcmp(st.reason, "timeout") != 0) {
		sxerr_set(e, EX_UNAVAILABLE, "%s: not up yet (%s via %s); the "
		    "supervisor (pid %ld) keeps trying; see ssh-tunnel-ls",
		    t->name, st.reason, st.bastion, (long)st.pid);
		return 1;
	}
	return 2;
}

/* Why a tunnel is not up when the wait for it ends, since t0 (now_ms()).
 * Always 1. */
int
lc_not_confirmed(const struct lc_start *s, long long t0, struct sxerr *e)
{
	char path[STATE_PATH];
	struct tstate st;
	struct sxerr ignore;
	int secs = (int)((now_ms() - t0 + 500) / 1000);

	if (state_path(path, sizeof(path), s->pl->state, s->t->name,
	    ".state") == 0 && state_read(path, &st, &ignore) == 0 &&
	    st.reason[0] != '\0')
		sxerr_set(e, EX_UNAVAILABLE, "%s: not confirmed up after %d s "
		    "(%s via %s); the supervisor keeps trying", s->t->name,
		    secs, st.reason, st.bastion);
	else
		sxerr_set(e, EX_UNAVAILABLE, "%s: not confirmed up after %d "
		    "s; the supervisor keeps trying", s->t->name, secs);
	return 1;
}

/*
 * Whether a wait for forwards goes on at now (now_ms()): before until,
 * or while the bastion is busy before busy_until.
 */
int
lc_wait_on(long long now, long long until, long long busy_until, int busy)
{
	return now < until || (busy && now < busy_until);
}

/*
 * Wait until lc_look_up says up (0) or a first failure (1), or an exited
 * supervisor (-1); until s->until when set, else for LC_WAIT_UP_MS, and
 * on while the bastion is busy up to LC_WAIT_BUSY_MS (1).
 */
int
lc_wait_up(const struct lc_ctx *c, struct lc_start *s, pid_t child,
    unsigned min_restarts, struct sxerr *e)
{
	long long t0 = now_ms();
	long long end = s->until != 0 ? s->until : t0 + LC_WAIT_UP_MS;
	long long busy_end = s->until != 0 ? end : t0 + LC_WAIT_BUSY_MS;
	int rc;

	while ((rc = lc_look_up(s, child, min_restarts, e)) == 2) {
		if (!lc_wait_on(now_ms(), end, busy_end, s->busy))
			return lc_not_confirmed(s, t0, e);
		if (lc_pause(c, 50) == -1)
			return sxerr_set(e, EX_TEMPFAIL, "%s: stopped waiting "
			    "for the forward; the supervisor keeps trying "
			    "until the tunnel is removed", s->t->name);
	}
	return rc;
}

/* The supervisor runs already (it holds the lock): reload or just wait. */
static int
running(const struct lc_ctx *c, struct lc_start *s, pid_t pid,
    struct sxerr *e)
{
	const struct tunnel *t = s->t;
	const struct places *pl = s->pl;
	char path[STATE_PATH];
	struct tstate st;

	int rc = 0;

	if (state_path(path, sizeof(path), pl->state, t->name,
	    ".state") == -1 || state_read(path, &st, e) == -1)
		memset(&st, 0, sizeof(st));
	if (s->defining && (rc = write_def(t, pl, e)) == -1)
		return -1;
	if (!s->defining || rc == 1) {
		lc_say(c, LC_INFO, "%s: already running (pid %ld)", t->name,
		    (long)pid);
		return lc_wait_up(c, s, 0, 0, e);
	}
	if (kill(pid, SIGHUP) == -1)
		return sxerr_errno(e, EX_OSERR, "kill %ld", (long)pid);
	return lc_wait_up(c, s, 0, st.restarts + 1, e);
}

/*
 * Under our lock fd, what a backend's start needs for s into *bs; the
 * last state table is removed, so that the wait sees only the new one.
 */
void
lc_bstart(const struct lc_ctx *c, const struct lc_start *s, int fd,
    struct bstart *bs)
{
	char path[STATE_PATH];

	if (state_path(path, sizeof(path), s->pl->state, s->t->name,
	    ".state") == 0)
		(void)unlink(path);
	memset(bs, 0, sizeof(*bs));
	bs->name = s->t->name;
	bs->self = c->self;
	bs->config = c->config;
	bs->verbose = c->verbose;
	bs->lockfd = fd;
	bs->pl = s->pl;
	bs->t = s->t;
}

/* Under our lock fd: write, start through b and hand the lock over. */
static int
launch(const struct lc_ctx *c, const struct lc_start *s, int fd, pid_t *pid,
    struct sxerr *e)
{
	const struct tunnel *t = s->t;
	const struct backend *b = s->b;
	struct bstart bs;

	if (s->defining && write_def(t, s->pl, e) == -1)
		return -1;
	lc_bstart(c, s, fd, &bs);
	if (b->start(b, &bs, e) == -1)
		return lc_prefixed(e, "%s: backend %s", t->name, b->name);
	if (bs.note[0] != '\0')
		lc_say(c, LC_INFO, "%s", bs.note);
	*pid = bs.pid;
	return 0;
}

/*
 * Bring s->t up (or reload it when running) through backend s->b: 0 when
 * the forward is confirmed (the bastion in use in s->bastion), 1 when it
 * is not yet but the supervisor keeps trying, -1 on error; e says why for
 * both.
 */
int
lc_start(const struct lc_ctx *c, struct lc_start *s, struct sxerr *e)
{
	const struct tunnel *t = s->t;
	const struct places *pl = s->pl;
	char path[STATE_PATH];
	pid_t pid;
	int fd, rc;

	if (state_mkdir(pl->state, e) == -1)
		return -1;
	if (state_path(path, sizeof(path), pl->state, t->name, ".lock") == -1)
		return sxerr_set(e, EX_OSERR, "%s: path too long", pl->state);
	if ((rc = state_lock(path, &fd, e)) == -1)
		return -1;
	if (rc == 1) {
		/* The supervisor holds the lock for as long as it runs. */
		if (!backend_supervisor(pl, t->name, &pid))
			return sxerr_set(e, 1, "%s: another ssh-tunnel-up or "
			    "ssh-tunnel-down is at work on this tunnel",
			    t->name);
		return running(c, s, pid, e);
	}
	rc = launch(c, s, fd, &pid, e);
	close(fd);
	if (rc == -1)
		return -1;
	return lc_wait_up(c, s, pid, 0, e);
}

/* The client ssh_config block for the bastion in use; none without -R. */
int
lc_block(FILE *fp, const struct tunnel *t, const char *bastion,
    struct sxerr *e)
{
	struct lc_row r;
	char buf[2048];

	if (tunnel_first_remote(t) == NULL)
		return 0;
	memset(&r, 0, sizeof(r));
	strlcpy(r.st.bastion, bastion, sizeof(r.st.bastion));
	lc_row_set(&r, t);
	if (tunnel_client_block(t, r.bi, buf, sizeof(buf), e) == -1)
		return -1;
	fputs(buf, fp);
	return 0;
}

/*
 * ssh-tunnel-up without -f, -K or --adopt: define or find the tunnel,
 * then with q->dry show what would be done, else gate it by the policy
 * and start it. What it prints goes to fp. 0 up, 1 not up yet (the
 * supervisor keeps trying), -1 on error; e says why.
 */
int
lc_setup(const struct lc_ctx *c, const struct lc_req *q, FILE *fp,
    struct sxerr *e)
{
	struct lc_start s;
	struct tunnel *t;
	struct tref src;
	struct config *cf;
	struct places pl;
	int rc;

	memset(&s, 0, sizeof(s));
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return sxerr_errno(e, EX_OSERR, "calloc");
	if (tunnel_src(q, c->config, &cf, t, &src, e) == -1) {
		free(t);
		return -1;
	}
	if ((s.b = lc_backend(q->backend, src.b, e)) == NULL ||
	    s.b->places(&pl, e) == -1)
		rc = -1;
	else if (q->dry)
		rc = lc_dry_run(fp, t, s.b, &pl, c->self, e);
	else if ((rc = lc_gate(cf, e)) == 0 &&
	    (rc = tunnel_check_key(t, e)) == 0)
		rc = lc_check(c, s.b, t, src.path, e);
	config_free(cf);
	if (rc == 0 && !q->dry) {
		s.t = t;
		s.defining = defines(q);
		s.pl = &pl;
		if ((rc = lc_start(c, &s, e)) == 0 && !q->quiet)
			rc = lc_block(fp, t, s.bastion, e);
	}
	free(t);
	return rc;
}
