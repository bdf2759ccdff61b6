/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/file.h>
#include <sys/stat.h>
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

#include "host.h"
#include "lifecycle.h"
#include "now.h"
#include "policy.h"
#include "spawn.h"
#include "supervise.h"
#include "text.h"

#define WAIT_UP_MS	((TUN_CONNECT_TIMEOUT + 5) * 1000)
#define PROBE_MS	((TUN_CONNECT_TIMEOUT + 5) * 1000)
#define YAML_MAX	65536	/* a definition as YAML, a unit */

static void say(const struct lc_ctx *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static int prefixed(struct sxerr *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(const struct lc_ctx *c, int level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (c == NULL || c->note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->note(c->arg, level, msg);
}

const char *
lc_ssh_bin(void)
{
	const char *s = getenv("SCITEX_SSH_SSH");

	return s != NULL && *s != '\0' ? s : "ssh";
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
		prefixed(e, "local host name");
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
			return sxerr_set(e, EX_DATAERR, "-s: path too long");
		return 0;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return sxerr_errno(e, EX_OSERR, "getcwd");
	if ((size_t)snprintf(buf, sz, "%s/%s", cwd, s) >= sz)
		return sxerr_set(e, EX_DATAERR, "-s: path too long");
	return 0;
}

/* "-b: why": what went wrong, said before the library's message. */
static int
prefixed(struct sxerr *e, const char *fmt, ...)
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
			return prefixed(e, "-b");
	t->nbastion = q->nbastion;
	if (t->nbastion == 0 &&
	    (env = getenv("SCITEX_SSH_BASTION_SERVER")) != NULL && *env) {
		if (host_parse_bastion(env, &t->bastion[0], e) == -1)
			return prefixed(e, "SCITEX_SSH_BASTION_SERVER");
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
		return prefixed(e, "-p");
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
		return prefixed(e, "-l: %.200s: want local_host:local_port",
		    q->local);
	}
	t->nfwd = 1;
	return 0;
}

/* A new definition from the request and the environment. */
static int
define(struct tunnel *t, const struct lc_req *q, struct sxerr *e)
{
	char key[TUN_PATH_MAX];
	const char *env;
	size_t i;

	tunnel_init(t, q->name);
	if (define_bastions(t, q, e) == -1 || define_forward(t, q, e) == -1)
		return -1;
	if ((env = q->key) != NULL ||
	    ((env = getenv("SCITEX_SSH_SECRET_KEY_PATH")) != NULL && *env)) {
		if (key_arg(env, key, sizeof(key), e) == -1 ||
		    tunnel_valid_key(key, e) == -1)
			return -1;
		strlcpy(t->key, key, sizeof(t->key));
	}
	for (i = 0; i < q->nopt; i++) {
		if (tunnel_valid_option(q->opt[i], e) == -1)
			return prefixed(e, "-o");
		strlcpy(t->opt[i], q->opt[i], TUN_OPT_LEN);
	}
	t->nopt = q->nopt;
	return 0;
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

	*cfp = NULL;
	*bp = NULL;
	if ((q->nbastion > 0 || q->port != NULL) && define(t, q, e) == -1)
		return -1;
	if (config_open(config, cfp, e) == -1)
		return -1;
	if (q->nbastion > 0 || q->port != NULL)
		return 0;
	if ((rc = backend_lookup(*cfp, q->name, &r, e)) == 0) {
		if (q->key || q->local || q->nopt)
			rc = sxerr_set(e, EX_USAGE, "%s: -s, -l and -o define "
			    "a tunnel: give -p and -b too", q->name);
		else if ((rc = backend_load(*cfp, &r, t, e)) == 0)
			*bp = r.b;
	} else if (rc == 1)
		rc = sxerr_set(e, 1, "%s: no such tunnel; define it with -p "
		    "and -b", q->name);
	if (rc == -1) {
		config_free(*cfp);
		*cfp = NULL;
	}
	return rc;
}

/* The backend -m names (it must work here), else dflt, else the first. */
const struct backend *
lc_backend(const char *mflag, const struct backend *dflt, struct sxerr *e)
{
	const struct backend *b;

	if (mflag != NULL) {
		if ((b = backend_find(mflag, e)) == NULL) {
			prefixed(e, "-m");
			return NULL;
		}
		if (b->available(e) == -1) {
			prefixed(e, "backend %s", b->name);
			return NULL;
		}
		return b;
	}
	if (dflt != NULL)
		return dflt;
	if ((b = backend_pick(e)) == NULL)
		prefixed(e, "no backend works here");
	return b;
}

/* The definition, the unit and the exact argv of each bastion, to fp. */
static int
dry_argv(FILE *fp, const struct tunnel *t, struct sxerr *e)
{
	struct sshargv *a;
	size_t i, j;

	if ((a = malloc(sizeof(*a))) == NULL)
		return sxerr_errno(e, EX_OSERR, "malloc");
	for (i = 0; i < t->nbastion; i++) {
		if (tunnel_argv(t, i, lc_ssh_bin(), a, e) == -1) {
			free(a);
			return -1;
		}
		fprintf(fp, "# ssh, bastion %zu of %zu\n", i + 1, t->nbastion);
		for (j = 0; j < a->argc; j++)
			fprintf(fp, "%s%s", j ? " " : "", a->argv[j]);
		fputc('\n', fp);
	}
	free(a);
	return 0;
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
	if (b->unit == NULL)
		fprintf(fp, "# backend %s: no unit\n", b->name);
	else if (b->unit(t, self, buf, YAML_MAX, e) == -1)
		goto out;
	else
		fprintf(fp, "# backend %s: unit\n%s", b->name, buf);
	rc = dry_argv(fp, t, e);
out:
	free(buf);
	return rc;
}

static int
write_def(const struct tunnel *t, const struct places *pl, struct sxerr *e)
{
	char path[STATE_PATH], *buf;
	int rc = -1;

	if ((buf = malloc(YAML_MAX)) == NULL)
		return sxerr_errno(e, EX_OSERR, "malloc");
	if (tunnel_yaml(t, buf, YAML_MAX, e) == -1 ||
	    state_mkdir(pl->defs, e) == -1)
		goto out;
	if (state_path(path, sizeof(path), pl->defs, t->name, ".yaml") == -1)
		sxerr_set(e, EX_OSERR, "%s: path too long", pl->defs);
	else
		rc = state_write_file(path, buf, strlen(buf), 0600, e);
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
static int
pause_ms(const struct lc_ctx *c, int ms)
{
	if (c != NULL && c->pause != NULL)
		return c->pause(c->pausearg, ms);
	sleep_ms(ms);
	return 0;
}

/*
 * Wait until the supervisor confirms the forward (0, the bastion in use
 * in s->bastion) or reports a first failure (1, it keeps trying), in an attempt
 * numbered min_restarts or later; a supervisor of ours that exits early
 * is an error with its status.
 */
static int
wait_up(const struct lc_ctx *c, struct lc_start *s, pid_t child,
    unsigned min_restarts, struct sxerr *e)
{
	const struct tunnel *t = s->t;
	const struct places *pl = s->pl;
	char path[STATE_PATH];
	struct tstate st;
	struct sxerr ignore;
	long long end = now_ms() + WAIT_UP_MS;
	int status;

	if (state_path(path, sizeof(path), pl->state, t->name, ".state") == -1)
		return sxerr_set(e, EX_OSERR, "state path too long");
	while (now_ms() < end) {
		if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
			if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
				return sxerr_set(e, WEXITSTATUS(status), "%s: "
				    "the supervisor exited; see %s/%s.log",
				    t->name, pl->state, t->name);
			return sxerr_set(e, EX_OSERR, "%s: the supervisor "
			    "died; see %s/%s.log", t->name, pl->state,
			    t->name);
		}
		if (state_read(path, &st, &ignore) == 0 &&
		    st.restarts >= min_restarts) {
			if (strcmp(st.state, "up") == 0) {
				strlcpy(s->bastion, st.bastion,
				    sizeof(s->bastion));
				return 0;
			}
			if (strcmp(st.state, "backoff") == 0) {
				sxerr_set(e, EX_UNAVAILABLE, "%s: not up yet "
				    "(%s via %s); the supervisor (pid %ld) "
				    "keeps trying; see ssh-tunnel-ls",
				    t->name, st.reason, st.bastion,
				    (long)st.pid);
				return 1;
			}
		}
		if (pause_ms(c, 50) == -1)
			return sxerr_set(e, EX_TEMPFAIL, "%s: stopped waiting "
			    "for the forward; the supervisor keeps trying "
			    "until the tunnel is removed", t->name);
	}
	sxerr_set(e, EX_UNAVAILABLE, "%s: not confirmed up after %d s; the "
	    "supervisor keeps trying", t->name, WAIT_UP_MS / 1000);
	return 1;
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

	if (!s->defining) {
		say(c, LC_INFO, "%s: already running (pid %ld)", t->name,
		    (long)pid);
		return wait_up(c, s, 0, 0, e);
	}
	if (state_path(path, sizeof(path), pl->state, t->name,
	    ".state") == -1 || state_read(path, &st, e) == -1)
		memset(&st, 0, sizeof(st));
	if (write_def(t, pl, e) == -1)
		return -1;
	if (kill(pid, SIGHUP) == -1)
		return sxerr_errno(e, EX_OSERR, "kill %ld", (long)pid);
	return wait_up(c, s, 0, st.restarts + 1, e);
}

/* Under our lock fd: write, start through b and hand the lock over. */
static int
launch(const struct lc_ctx *c, const struct lc_start *s, int fd, pid_t *pid,
    struct sxerr *e)
{
	const struct tunnel *t = s->t;
	const struct places *pl = s->pl;
	const struct backend *b = s->b;
	char path[STATE_PATH];
	struct bstart bs;

	if (s->defining && write_def(t, pl, e) == -1)
		return -1;
	if (state_path(path, sizeof(path), pl->state, t->name, ".state") == 0)
		(void)unlink(path);
	memset(&bs, 0, sizeof(bs));
	bs.name = t->name;
	bs.self = c->self;
	bs.config = c->config;
	bs.verbose = c->verbose;
	bs.lockfd = fd;
	bs.pl = pl;
	bs.t = t;
	if (b->start(&bs, e) == -1)
		return prefixed(e, "%s: backend %s", t->name, b->name);
	if (bs.note[0] != '\0')
		say(c, LC_INFO, "%s", bs.note);
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
	return wait_up(c, s, pid, 0, e);
}

/* The client ssh_config block for the bastion in use; none without -R. */
int
lc_block(FILE *fp, const struct tunnel *t, const char *bastion,
    struct sxerr *e)
{
	struct lc_row r;
	char buf[2048], b[512];
	size_t bi;

	if (tunnel_first_remote(t) == NULL)
		return 0;
	memset(&r.st, 0, sizeof(r.st));
	r.t = *t;
	r.loaded = 1;
	strlcpy(r.st.bastion, bastion, sizeof(r.st.bastion));
	bi = lc_row_bastion(&r, b, sizeof(b));
	if (tunnel_client_block(t, bi, buf, sizeof(buf), e) == -1)
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
	struct config *cf;
	struct places pl;
	int rc;

	memset(&s, 0, sizeof(s));
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return sxerr_errno(e, EX_OSERR, "calloc");
	if (lc_tunnel(q, c->config, &cf, t, &s.b, e) == -1) {
		free(t);
		return -1;
	}
	if ((s.b = lc_backend(q->backend, s.b, e)) == NULL ||
	    s.b->places(&pl, e) == -1)
		rc = -1;
	else if (q->dry)
		rc = lc_dry_run(fp, t, s.b, &pl, c->self, e);
	else if ((rc = lc_gate(cf, e)) == 0)
		rc = tunnel_check_key(t, e);
	config_free(cf);
	if (rc == 0 && !q->dry) {
		s.t = t;
		s.defining = q->nbastion > 0 || q->port != NULL;
		s.pl = &pl;
		if ((rc = lc_start(c, &s, e)) == 0 && !q->quiet)
			rc = lc_block(fp, t, s.bastion, e);
	}
	free(t);
	return rc;
}

/* ssh-tunnel-ls's rows. */

int
lc_row_port(const struct lc_row *r)
{
	const struct forward *f;

	if (!r->loaded)
		return 0;
	if ((f = tunnel_first_remote(&r->t)) != NULL)
		return f->port;
	return r->t.nfwd > 0 ? r->t.fwd[0].port : 0;
}

static int
row_has_port(const struct lc_row *r, int port)
{
	size_t i;

	for (i = 0; r->loaded && i < r->t.nfwd; i++)
		if (r->t.fwd[i].port == port)
			return 1;
	return 0;
}

/* The bastion in use, else the first of the definition; its index. */
size_t
lc_row_bastion(const struct lc_row *r, char *buf, size_t sz)
{
	char b[512];
	size_t i;

	buf[0] = '\0';
	if (!r->loaded)
		return 0;
	for (i = 0; i < r->t.nbastion; i++)
		if (host_fmt_bastion(&r->t.bastion[i], b, sizeof(b)) == 0 &&
		    strcmp(b, r->st.bastion) == 0) {
			strlcpy(buf, b, sz);
			return i;
		}
	if (host_fmt_bastion(&r->t.bastion[0], buf, sz) == -1)
		buf[0] = '\0';
	return 0;
}

long long
lc_row_uptime(const struct lc_row *r)
{
	time_t now = time(NULL);

	if (strcmp(r->st.state, "up") != 0 || r->st.up_since == 0 ||
	    r->st.up_since > now)
		return 0;
	return (long long)(now - r->st.up_since);
}

static int
wanted(const char *name, char *const names[], size_t n, char *seen)
{
	size_t i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0) {
			seen[i] = 1;
			return 1;
		}
	return 0;
}

/*
 * A row for each ref wanted, with its state, into rows->v (room for all).
 * A definition that does not load is said and makes the listing bad; a
 * unit of another tool that does not read is shown as its state says.
 */
static void
add_rows(const struct lc_ctx *c, const struct config *cf,
    const struct lc_sel *sel, const struct tref *refs, size_t nref,
    struct lc_rows *rows, char *seen)
{
	struct sxerr le;
	size_t i;

	for (i = 0; i < nref; i++) {
		struct lc_row *r = &rows->v[rows->n];

		if (!wanted(refs[i].name, sel->names, sel->nnames, seen))
			continue;
		memset(r, 0, sizeof(*r));
		r->ref = refs[i];
		if (backend_load(cf, &r->ref, &r->t, &le) == 0)
			r->loaded = 1;
		else if (r->ref.b->defines) {
			say(c, LC_ERR, "%s", le.msg);
			rows->bad = 1;
		}
		if (sel->port != 0 && (r->ref.port != 0 ?
		    r->ref.port != sel->port : !row_has_port(r, sel->port)))
			continue;
		backend_status(&r->ref, &r->st);
		rows->n++;
	}
}

/*
 * The rows of ssh-tunnel-ls: every tunnel, or those named, or those with
 * a forward on port (0: any); scitex-ssh 1.0's units too. A definition
 * that does not load or a name unknown is said and sets rows->bad.
 */
int
lc_list(const struct lc_ctx *c, const struct config *cf,
    const struct lc_sel *sel, struct lc_rows *rows, struct sxerr *e)
{
	struct tref *refs;
	struct sxerr le;
	size_t nref, i;
	char *seen;
	int rc;

	memset(rows, 0, sizeof(*rows));
	if ((rc = backend_list(cf, BL_DEFINED | BL_OTHERS, &refs, &nref,
	    &le)) == -1) {
		*e = le;
		return -1;
	}
	if (rc == 1)
		say(c, LC_ERR, "%s", le.msg);
	if ((rows->v = calloc(nref + 1, sizeof(*rows->v))) == NULL ||
	    (seen = calloc(sel->nnames + 1, 1)) == NULL) {
		free(rows->v);
		free(refs);
		rows->v = NULL;
		return sxerr_errno(e, EX_OSERR, "calloc");
	}
	add_rows(c, cf, sel, refs, nref, rows, seen);
	free(refs);
	for (i = 0; i < sel->nnames; i++)
		if (!seen[i]) {
			say(c, LC_ERR, "%s: no such tunnel", sel->names[i]);
			rows->bad = 1;
		}
	free(seen);
	return 0;
}

/* The last line of ssh's stderr that is not debug chatter. */
static void
last_line(char *err, char *buf, size_t sz)
{
	char *l, *save = NULL;

	strlcpy(buf, "no banner", sz);
	for (l = strtok_r(err, "\r\n", &save); l != NULL;
	    l = strtok_r(NULL, "\r\n", &save))
		if (strncmp(l, "debug", 5) != 0 && *l != '\0')
			strlcpy(buf, l, sz);
}

/* ssh through the bastion to the remote port; its answer into c. */
static int
probe_run(const struct lc_row *r, const struct forward *f,
    struct capture *c, struct sxerr *e)
{
	struct sshargv *a;
	char bast[512];
	size_t bi;
	int rc;

	if ((a = malloc(sizeof(*a))) == NULL)
		return sxerr_errno(e, EX_OSERR, "malloc");
	bi = lc_row_bastion(r, bast, sizeof(bast));
	if ((rc = tunnel_probe_argv(&r->t, bi, f, lc_ssh_bin(), a, e)) == 0)
		rc = spawn_capture(a->argv, c, e);
	free(a);
	return rc;
}

/*
 * Through the bastion to the remote port: an SSH banner must come back.
 * 0 verified (the banner in buf), 1 not (why in buf), -1 out of memory.
 */
int
lc_row_probe(const struct lc_row *r, char *buf, size_t sz)
{
	const struct forward *f;
	struct capture c;
	struct sxerr e;
	char *out;
	int rc = 1;

	if (!r->loaded || (f = tunnel_first_remote(&r->t)) == NULL) {
		strlcpy(buf, "no R forward", sz);
		return 1;
	}
	memset(&c, 0, sizeof(c));
	c.outsz = 4096;
	c.errsz = 16384;
	if ((out = malloc(c.outsz + c.errsz)) == NULL)
		return -1;
	c.out = out;
	c.err = out + c.outsz;
	c.until = "\n";
	c.timeout_ms = PROBE_MS;
	if (probe_run(r, f, &c, &e) == -1)
		strlcpy(buf, e.msg, sz);
	else if (strncmp(c.out, "SSH-2.0-", 8) == 0) {
		c.out[strcspn(c.out, "\r\n")] = '\0';
		strlcpy(buf, text_printable(c.out) ? c.out : "SSH-2.0-", sz);
		rc = 0;
	} else {
		last_line(c.err, buf, sz);
		if (!text_printable(buf))
			strlcpy(buf, "bad answer", sz);
	}
	free(out);
	return rc;
}

/* ssh-tunnel-down. */

static void
rm(const struct lc_ctx *c, const char *dir, const char *name, const char *ext)
{
	char path[STATE_PATH];

	if (state_path(path, sizeof(path), dir, name, ext) == -1)
		return;
	if (unlink(path) == 0)
		say(c, LC_DEBUG, "removed %s", path);
	else if (errno != ENOENT)
		say(c, LC_ERR, "%s: %s", path, strerror(errno));
}

/* A backend that removes its own: 0 done, 1 not done. */
static int
down_other(const struct lc_ctx *c, const struct tref *r)
{
	struct sxerr e;

	if (r->b->remove(r, &e) == -1) {
		say(c, LC_ERR, "%s", e.msg);
		return 1;
	}
	say(c, LC_DEBUG, "%s: removed", r->path);
	return 0;
}

/* Stop it, then remove its files under its lock. 0 done, 1 not done. */
static int
down(const struct lc_ctx *c, const struct tref *r)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	char lock[STATE_PATH];
	struct sxerr e;
	int fd = -1, rc = 1, i, stopped;

	if (r->b->remove != NULL)
		return down_other(c, r);
	if ((stopped = r->b->stop(&r->pl, r->name, &e)) == -1) {
		say(c, LC_ERR, "%s: backend %s: %s", r->name, r->b->name,
		    e.msg);
		return 1;
	}
	if (stopped)
		say(c, LC_DEBUG, "%s: stopped", r->name);
	if (state_path(lock, sizeof(lock), r->pl.state, r->name,
	    ".lock") == -1) {
		say(c, LC_ERR, "%s: path too long", r->pl.state);
		return 1;
	}
	if (access(lock, F_OK) == 0) {
		for (i = 0; i < 30 && (rc = state_lock(lock, &fd, &e)) == 1;
		    i++)
			nanosleep(&ts, NULL);
		if (rc != 0) {
			say(c, LC_ERR, "%s: busy: another ssh-tunnel-up or "
			    "ssh-tunnel-down is at work on it", r->name);
			return 1;
		}
	}
	if (r->in_config)
		say(c, LC_ERR, "%s: defined in %s:%u; remove it there",
		    r->name, r->path, r->line);
	else
		rm(c, r->pl.defs, r->name, ".yaml");
	rm(c, r->pl.state, r->name, ".state");
	rm(c, r->pl.state, r->name, ".pid");
	rm(c, r->pl.state, r->name, ".log");
	rm(c, r->pl.state, r->name, ".lock");
	if (fd != -1)
		close(fd);
	return 0;
}

/* A defined tunnel with a forward on port; another tool's unit of port. */
static int
ref_has_port(const struct config *cf, const struct tref *r, int port)
{
	struct tunnel *t;
	struct sxerr e;
	size_t i;
	int has = 0;

	if (r->port != 0)
		return r->port == port;
	if ((t = malloc(sizeof(*t))) == NULL)
		return 0;
	if (backend_load(cf, r, t, &e) == 0)
		for (i = 0; i < t->nfwd; i++)
			if (t->fwd[i].port == port)
				has = 1;
	free(t);
	return has;
}

/*
 * Every defined tunnel with a forward on port, and the first unit of
 * another tool (scitex-ssh 1.0's autossh-tunnel-PORT.service) of port.
 */
static int
remove_port(const struct lc_ctx *c, const struct config *cf,
    const struct tref *refs, size_t n, int port)
{
	size_t i;
	int found = 0, other = 0, rc = 0;

	for (i = 0; i < n; i++) {
		if ((!refs[i].b->defines && other) ||
		    !ref_has_port(cf, &refs[i], port))
			continue;
		found = 1;
		other |= !refs[i].b->defines;
		rc |= down(c, &refs[i]);
	}
	if (!found) {
		say(c, LC_INFO, "port %d: no such tunnel", port);
		rc = 1;
	}
	return rc;
}

/* The tunnels defined under name, else the first other tool's unit. */
static int
remove_name(const struct lc_ctx *c, const struct tref *refs, size_t n,
    const char *name)
{
	size_t i;
	int found = 0, rc = 0;

	for (i = 0; i < n; i++)
		if (strcmp(refs[i].name, name) == 0 &&
		    (refs[i].b->defines || !found)) {
			found = 1;
			rc |= down(c, &refs[i]);
		}
	if (!found) {
		say(c, LC_INFO, "%s: no such tunnel", name);
		rc = 1;
	}
	return rc;
}

/*
 * Take tunnels down and remove their files: all the defined ones, those
 * with a forward on port (scitex-ssh 1.0's unit of that port too), or
 * those named. 0 when every one is gone, 1 when one was not there or not
 * taken down (said through the note hook), -1 when the tunnels cannot be
 * listed.
 */
int
lc_remove(const struct lc_ctx *c, const struct config *cf,
    const struct lc_sel *sel, struct sxerr *e)
{
	struct tref *refs;
	struct sxerr le;
	size_t n, i;
	int rc;

	if ((rc = backend_list(cf, sel->all ? BL_DEFINED : BL_DEFINED |
	    BL_OTHERS, &refs, &n, &le)) == -1) {
		*e = le;
		return -1;
	}
	if (rc == 1)
		say(c, LC_ERR, "%s", le.msg);
	rc = 0;
	if (sel->all) {
		for (i = 0; i < n; i++)
			rc |= down(c, &refs[i]);
	} else if (sel->port != 0)
		rc = remove_port(c, cf, refs, n, sel->port);
	else
		for (i = 0; i < sel->nnames; i++)
			rc |= remove_name(c, refs, n, sel->names[i]);
	free(refs);
	return rc;
}

/* ssh-tunnel-up --adopt. */

struct adopt {
	struct tref	 old;		/* the 1.0 unit */
	struct tunnel	 t;		/* its tunnel under the new name */
	struct lc_start	 s;
	struct places	 pl;
};

/* The 1.0 unit of port, its tunnel named q->name, gated and checked. */
static int
adopt_prepare(const struct lc_ctx *c, const struct lc_req *q, int port,
    struct adopt *a, struct sxerr *e)
{
	struct config *cf;
	struct tref r;
	int rc;

	if (backend_autossh(port, &a->old, e) == -1)
		return prefixed(e, "--adopt");
	r = a->old;
	strlcpy(r.name, q->name, sizeof(r.name));
	if (backend_load(NULL, &r, &a->t, e) == -1)
		return prefixed(e, "--adopt");
	if (config_open(c->config, &cf, e) == -1)
		return -1;
	if ((rc = backend_lookup(cf, q->name, &r, e)) == 0)
		rc = sxerr_set(e, 1, "--adopt: a tunnel named %s exists "
		    "already; name the new one: ssh-tunnel-up --adopt %d NAME",
		    q->name, port);
	else if (rc == 1 && ((a->s.b = lc_backend(q->backend, NULL, e)) ==
	    NULL || a->s.b->places(&a->pl, e) == -1 || lc_gate(cf, e) == -1 ||
	    tunnel_check_key(&a->t, e) == -1))
		rc = -1;
	else if (rc == 1)
		rc = 0;
	config_free(cf);
	return rc;
}

/* Not up: the new tunnel taken down again, its definition removed. */
static int
adopt_back(struct adopt *a, struct sxerr *e)
{
	char path[STATE_PATH];
	struct sxerr ignore;

	(void)a->s.b->stop(&a->pl, a->t.name, &ignore);
	if (state_path(path, sizeof(path), a->pl.defs, a->t.name,
	    ".yaml") == 0)
		(void)unlink(path);
	return sxerr_set(e, EX_UNAVAILABLE, "%s: not up: taken down again; "
	    "%s is kept", a->t.name, a->old.path);
}

/* The old unit started again, whatever happens to the new tunnel. */
static int
adopt_undo(struct adopt *a, int rc)
{
	struct bstart bs;
	struct sxerr ignore;

	memset(&bs, 0, sizeof(bs));
	bs.name = a->old.name;
	(void)a->old.b->start(&bs, &ignore);
	return rc;
}

/*
 * Take over scitex-ssh 1.0's autossh-tunnel-PORT.service under the name
 * q->name and the backend q->backend. The old unit is stopped so that the
 * new tunnel can bind the port, and removed only once the new tunnel is
 * up (its client block to fp, unless q->quiet); otherwise the new one is
 * taken down again and the old one started again. 0 adopted, -1 not; e
 * says why.
 */
int
lc_adopt(const struct lc_ctx *c, const struct lc_req *q, int port, FILE *fp,
    struct sxerr *e)
{
	struct adopt *a;
	int rc = -1;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return sxerr_errno(e, EX_OSERR, "calloc");
	if (adopt_prepare(c, q, port, a, e) == -1)
		goto out;
	if (a->old.b->stop(&a->pl, a->old.name, e) == -1) {
		prefixed(e, "--adopt");
		goto out;
	}
	a->s.t = &a->t;
	a->s.defining = 1;
	a->s.pl = &a->pl;
	if ((rc = lc_start(c, &a->s, e)) == 1) {
		say(c, LC_ERR, "%s", e->msg);
		rc = adopt_undo(a, adopt_back(a, e));
	} else if (rc == -1 || (!q->quiet &&
	    (rc = lc_block(fp, &a->t, a->s.bastion, e)) == -1))
		rc = adopt_undo(a, -1);
	else if ((rc = a->old.b->remove(&a->old, e)) == -1)
		prefixed(e, "%s: up, but the old unit stays", a->t.name);
	else
		say(c, LC_INFO, "%s: adopted %s (removed)", a->t.name,
		    a->old.path);
out:
	free(a);
	return rc;
}

/* ssh-tunnel-up -f. */

struct sv {
	const struct lc_ctx	*c;
	const char		*name;
};

/* The supervisor's messages: state changes, and ssh's lines (level 1). */
static void
sv_log(void *arg, int level, const char *msg)
{
	struct sv *v = arg;

	say(v->c, level > 0 ? LC_DEBUG : LC_INFO, "%s: %s", v->name, msg);
}

/* SIGHUP: the definition read anew. */
static int
sv_reload(void *arg, struct tunnel *t, struct sxerr *e)
{
	struct sv *v = arg;
	struct config *cf;
	struct tref r;
	int rc;

	if (config_open(v->c->config, &cf, e) == -1)
		return -1;
	if ((rc = backend_lookup(cf, v->name, &r, e)) == 1)
		sxerr_set(e, EX_CONFIG, "%s: no longer defined", v->name);
	if (rc == 0 && (rc = backend_load(cf, &r, t, e)) == 0)
		rc = tunnel_check_key(t, e);
	config_free(cf);
	return rc == 0 ? 0 : -1;
}

/* The definition of name and where its state goes. */
static int
sv_load(const struct lc_ctx *c, const char *name, struct tunnel *t,
    struct tref *r, struct sxerr *e)
{
	struct config *cf;
	int rc;

	if (config_open(c->config, &cf, e) == -1)
		return -1;
	if ((rc = backend_lookup(cf, name, r, e)) == 1)
		rc = sxerr_set(e, EX_CONFIG, "%s: no such tunnel (not in %s "
		    "nor in tunnels.d)", name, cf->path[0] ? cf->path :
		    "a config file");
	if (rc == 0 && (rc = backend_load(cf, r, t, e)) == 0)
		rc = tunnel_check_key(t, e);
	config_free(cf);
	return rc;
}

/*
 * The lock handed over by the ssh-tunnel-up that started us (fd 3), or
 * our own; 1 (the exit status DESIGN.md gives a lock held) when another
 * supervisor holds it.
 */
static int
sv_lock(const struct places *pl, const char *name, int *fdp,
    struct sxerr *e)
{
	char path[STATE_PATH], pidf[STATE_PATH];
	struct stat a, b;
	pid_t pid;
	int rc;

	if (state_path(path, sizeof(path), pl->state, name, ".lock") == -1 ||
	    state_path(pidf, sizeof(pidf), pl->state, name, ".pid") == -1)
		return sxerr_set(e, EX_OSERR, "%s: path too long", pl->state);
	if (fstat(3, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino && flock(3, LOCK_EX | LOCK_NB) == 0) {
		if (fcntl(3, F_SETFD, FD_CLOEXEC) == -1)
			return sxerr_errno(e, EX_OSERR, "fcntl");
		*fdp = 3;
		return 0;
	}
	if ((rc = state_lock(path, fdp, e)) != 1)
		return rc;
	state_pidfile_proven(pidf, SUPERVISOR_COMM, &pid);
	return sxerr_set(e, 1, "%s: already supervised (pid %ld)", name,
	    (long)pid);
}

/*
 * Be the supervisor of name until SIGTERM or SIGINT: its lock held, its
 * pid file written, its ssh kept running (lib/supervise.c). What it does
 * goes to the note hook; 0 when stopped by a signal, -1 on error.
 */
int
lc_supervise(const struct lc_ctx *c, const char *name, struct sxerr *e)
{
	char pidf[STATE_PATH], statef[STATE_PATH];
	struct sv v = { c, name };
	struct sv_hooks h = { sv_reload, sv_log, &v };
	struct tunnel *t;
	struct tref r;
	int rc = -1, fd;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return sxerr_errno(e, EX_OSERR, "calloc");
	if (sv_load(c, name, t, &r, e) == -1 || state_mkdir(r.pl.state,
	    e) == -1 || sv_lock(&r.pl, name, &fd, e) == -1)
		goto out;
	if (state_path(pidf, sizeof(pidf), r.pl.state, name, ".pid") == -1 ||
	    state_path(statef, sizeof(statef), r.pl.state, name,
	    ".state") == -1)
		sxerr_set(e, EX_OSERR, "%s: path too long", r.pl.state);
	else if (state_pidfile_write(pidf, getpid(), e) == 0) {
		sv_log(&v, 0, "supervising");
		if ((rc = supervise_run(t, lc_ssh_bin(), statef, &h, e)) == 0)
			sv_log(&v, 0, "stopped");
		(void)unlink(pidf);
	}
	close(fd);
out:
	free(t);
	return rc;
}
