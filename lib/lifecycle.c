/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "legacy.h"
#include "lifecycle.h"
#include "policy.h"
#include "sysd.h"
#include "text.h"

#define WAIT_UP_MS	((TUN_CONNECT_TIMEOUT + 5) * 1000)

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

/*
 * Feature "tunnels" for the local host name, as scitex-ssh 1.0 asked. A
 * denial says which file to edit and what to put there.
 */
int
lc_gate(const struct config *cf, struct sxerr *e)
{
	char h[HOST_MAX + 1], host[HOST_MAX + 1], why[1024], dflt[4096];
	struct policy *p;
	struct decision d;

	if (policy_load(cf, &p, e) == -1)
		return -1;
	if (gethostname(h, sizeof(h)) == -1) {
		policy_free(p);
		return sxerr_errno(e, EX_OSERR, "gethostname");
	}
	h[sizeof(h) - 1] = '\0';
	if (host_canon(h, host, sizeof(host), e) == -1) {
		policy_free(p);
		prefixed(e, "local host name");
		e->ex = EX_NOPERM;
		return -1;
	}
	policy_decide(p, host, "tunnels", &d);
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
int
lc_dry_run(FILE *fp, const struct tunnel *t, const struct backend *b,
    const struct places *pl, const char *self, struct sxerr *e)
{
	static char buf[65536];
	static struct sshargv a;
	size_t i, j;

	if (tunnel_yaml(t, buf, sizeof(buf), e) == -1)
		return -1;
	fprintf(fp, "# %s/%s.yaml\n%s", pl->defs, t->name, buf);
	if (b->unit == NULL)
		fprintf(fp, "# backend %s: no unit\n", b->name);
	else if (b->unit(t, self, buf, sizeof(buf), e) == -1)
		return -1;
	else
		fprintf(fp, "# backend %s: unit\n%s", b->name, buf);
	for (i = 0; i < t->nbastion; i++) {
		if (tunnel_argv(t, i, lc_ssh_bin(), &a, e) == -1)
			return -1;
		fprintf(fp, "# ssh, bastion %zu of %zu\n", i + 1, t->nbastion);
		for (j = 0; j < a.argc; j++)
			fprintf(fp, "%s%s", j ? " " : "", a.argv[j]);
		fputc('\n', fp);
	}
	return 0;
}

static int
write_def(const struct tunnel *t, const struct places *pl, struct sxerr *e)
{
	static char buf[65536];
	char path[STATE_PATH];

	if (tunnel_yaml(t, buf, sizeof(buf), e) == -1 ||
	    state_mkdir(pl->defs, e) == -1)
		return -1;
	if (state_path(path, sizeof(path), pl->defs, t->name, ".yaml") == -1)
		return sxerr_set(e, EX_OSERR, "%s: path too long", pl->defs);
	return state_write_file(path, buf, strlen(buf), 0600, e);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * Wait until the supervisor confirms the forward (0, the bastion in use
 * in buf) or reports a first failure (1, it keeps trying), in an attempt
 * numbered min_restarts or later; a supervisor of ours that exits early
 * is an error with its status.
 */
static int
wait_up(const struct tunnel *t, const struct places *pl, pid_t child,
    unsigned min_restarts, char *buf, size_t sz, struct sxerr *e)
{
	char path[STATE_PATH];
	struct tstate st;
	struct sxerr ignore;
	int i, status;

	if (state_path(path, sizeof(path), pl->state, t->name, ".state") == -1)
		return sxerr_set(e, EX_OSERR, "state path too long");
	for (i = 0; i < WAIT_UP_MS / 50; i++) {
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
				strlcpy(buf, st.bastion, sz);
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
		sleep_ms(50);
	}
	sxerr_set(e, EX_UNAVAILABLE, "%s: not confirmed up after %d s; the "
	    "supervisor keeps trying", t->name, WAIT_UP_MS / 1000);
	return 1;
}

/* The supervisor runs already (it holds the lock): reload or just wait. */
static int
running(const struct lc_ctx *c, const struct tunnel *t, int defining,
    const struct places *pl, pid_t pid, char *buf, size_t sz,
    struct sxerr *e)
{
	char path[STATE_PATH];
	struct tstate st;

	if (!defining) {
		say(c, LC_INFO, "%s: already running (pid %ld)", t->name,
		    (long)pid);
		return wait_up(t, pl, 0, 0, buf, sz, e);
	}
	if (state_path(path, sizeof(path), pl->state, t->name,
	    ".state") == -1 || state_read(path, &st, e) == -1)
		memset(&st, 0, sizeof(st));
	if (write_def(t, pl, e) == -1)
		return -1;
	if (kill(pid, SIGHUP) == -1)
		return sxerr_errno(e, EX_OSERR, "kill %ld", (long)pid);
	return wait_up(t, pl, 0, st.restarts + 1, buf, sz, e);
}

/* Under our lock fd: write, start through b and hand the lock over. */
static int
launch(const struct lc_ctx *c, const struct tunnel *t, int defining,
    const struct backend *b, const struct places *pl, int fd, pid_t *pid,
    struct sxerr *e)
{
	char path[STATE_PATH];
	struct bstart bs;

	if (defining && write_def(t, pl, e) == -1)
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
 * Bring the tunnel up (or reload a running one) through backend b: 0 when
 * the forward is confirmed (the bastion in use in buf), 1 when it is not
 * yet but the supervisor keeps trying, -1 on error; e says why for both.
 */
int
lc_start(const struct lc_ctx *c, const struct tunnel *t, int defining,
    const struct backend *b, const struct places *pl, char *buf, size_t sz,
    struct sxerr *e)
{
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
		return running(c, t, defining, pl, pid, buf, sz, e);
	}
	rc = launch(c, t, defining, b, pl, fd, &pid, e);
	close(fd);
	if (rc == -1)
		return -1;
	return wait_up(t, pl, pid, 0, buf, sz, e);
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
	static struct tunnel t;
	const struct backend *b;
	struct config *cf;
	struct places pl;
	char bastion[300];
	int rc;

	if (lc_tunnel(q, c->config, &cf, &t, &b, e) == -1)
		return -1;
	if ((b = lc_backend(q->backend, b, e)) == NULL ||
	    b->places(&pl, e) == -1)
		rc = -1;
	else if (q->dry)
		rc = lc_dry_run(fp, &t, b, &pl, c->self, e);
	else if ((rc = lc_gate(cf, e)) == 0)
		rc = tunnel_check_key(&t, e);
	config_free(cf);
	if (rc == -1 || q->dry)
		return rc;
	rc = lc_start(c, &t, q->nbastion > 0 || q->port != NULL, b, &pl,
	    bastion, sizeof(bastion), e);
	if (rc == 0 && !q->quiet)
		rc = lc_block(fp, &t, bastion, e);
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
 * scitex-ssh 1.0's units (branch systemd): rows of backend autossh named
 * autossh-tunnel-PORT, in systemd's state, so that they can be seen,
 * probed, adopted and removed.
 */
static const struct backend autossh_backend = { .name = "autossh" };

static int
add_legacy(const struct lc_ctx *c, struct lc_row **rows, size_t *n,
    char *const names[], size_t nnames, char *seen, int port,
    struct sxerr *e)
{
	char name[NAME_MAX_LEN + 1];
	struct lc_row *r, *nr;
	struct legacy *v;
	struct sxerr le;
	size_t nv, i;

	if (legacy_list(&v, &nv, &le) == -1) {
		say(c, LC_ERR, "%s", le.msg);
		return 0;
	}
	for (i = 0; i < nv; i++) {
		snprintf(name, sizeof(name), LEGACY_PREFIX "%d", v[i].port);
		if (!wanted(name, names, nnames, seen) ||
		    (port != 0 && v[i].port != port))
			continue;
		if ((nr = reallocarray(*rows, *n + 1, sizeof(**rows))) ==
		    NULL) {
			free(v);
			return sxerr_errno(e, EX_OSERR, "reallocarray");
		}
		*rows = nr;
		r = &nr[(*n)++];
		memset(r, 0, sizeof(*r));
		strlcpy(r->ref.name, name, sizeof(r->ref.name));
		strlcpy(r->ref.path, v[i].path, sizeof(r->ref.path));
		r->ref.b = &autossh_backend;
		r->loaded = legacy_tunnel(&v[i], name, &r->t, &le) == 0;
		sysd_legacy_state(&v[i], r->st.state, sizeof(r->st.state),
		    r->st.reason, sizeof(r->st.reason));
	}
	free(v);
	return 0;
}

/* The defined tunnels wanted, with their state, into rows[n]. */
static void
add_defined(const struct lc_ctx *c, const struct config *cf,
    const struct tref *refs, size_t nref, struct lc_row *rows, size_t *n,
    char *const names[], size_t nnames, char *seen, int port, int *bad)
{
	struct sxerr le;
	size_t i;

	for (i = 0; i < nref; i++) {
		struct lc_row *r = &rows[*n];

		if (!wanted(refs[i].name, names, nnames, seen))
			continue;
		r->ref = refs[i];
		if (backend_load(cf, &r->ref, &r->t, &le) == 0)
			r->loaded = 1;
		else {
			say(c, LC_ERR, "%s", le.msg);
			*bad = 1;
		}
		if (port != 0 && !row_has_port(r, port))
			continue;
		backend_status(&r->ref, &r->st);
		(*n)++;
	}
}

/*
 * The rows of ssh-tunnel-ls: every tunnel, or those named, or those with
 * a forward on port (0: any); scitex-ssh 1.0's units too. A definition
 * that does not load or a name unknown is said and sets *bad. The rows
 * are the caller's to free.
 */
int
lc_list(const struct lc_ctx *c, const struct config *cf, char *const names[],
    size_t nnames, int port, struct lc_row **rowsp, size_t *np, int *bad,
    struct sxerr *e)
{
	struct tref *refs;
	struct lc_row *rows;
	size_t nref, n = 0, i;
	char *seen;

	*rowsp = NULL;
	*np = 0;
	*bad = 0;
	if (backend_list(cf, &refs, &nref, e) == -1)
		return -1;
	if ((rows = calloc(nref + 1, sizeof(*rows))) == NULL ||
	    (seen = calloc(nnames + 1, 1)) == NULL) {
		free(rows);
		free(refs);
		return sxerr_errno(e, EX_OSERR, "calloc");
	}
	add_defined(c, cf, refs, nref, rows, &n, names, nnames, seen, port,
	    bad);
	free(refs);
	if (add_legacy(c, &rows, &n, names, nnames, seen, port, e) == -1) {
		free(rows);
		free(seen);
		return -1;
	}
	for (i = 0; i < nnames; i++)
		if (!seen[i]) {
			say(c, LC_ERR, "%s: no such tunnel", names[i]);
			*bad = 1;
		}
	free(seen);
	*rowsp = rows;
	*np = n;
	return 0;
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

/* Stop it, then remove its files under its lock. 0 done, 1 not done. */
static int
down(const struct lc_ctx *c, const struct tref *r)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	char lock[STATE_PATH];
	struct sxerr e;
	int fd = -1, rc = 1, i, stopped;

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

static int
ref_has_port(const struct config *cf, const struct tref *r, int port)
{
	static struct tunnel t;
	struct sxerr e;
	size_t i;

	if (backend_load(cf, r, &t, &e) == -1)
		return 0;
	for (i = 0; i < t.nfwd; i++)
		if (t.fwd[i].port == port)
			return 1;
	return 0;
}

/*
 * scitex-ssh 1.0's autossh-tunnel-PORT.service (branch systemd): 1 when
 * there was one and it is gone, 0 when there was none, -1 on error.
 */
static int
down_legacy(const struct lc_ctx *c, int port)
{
	struct legacy l;
	struct sxerr e;

	if (legacy_find(port, &l, &e) == -1) {
		if (e.ex == EX_UNAVAILABLE)
			return 0;
		say(c, LC_ERR, "%s", e.msg);
		return -1;
	}
	if (sysd_legacy_remove(&l, &e) == -1) {
		say(c, LC_ERR, "%s", e.msg);
		return -1;
	}
	say(c, LC_DEBUG, "%s: removed", l.path);
	return 1;
}

static int
remove_port(const struct lc_ctx *c, const struct config *cf,
    const struct tref *refs, size_t n, int port)
{
	size_t i;
	int found = 0, rc = 0, j;

	for (i = 0; i < n; i++)
		if (ref_has_port(cf, &refs[i], port)) {
			found = 1;
			rc |= down(c, &refs[i]);
		}
	if ((j = down_legacy(c, port)) != 0) {
		found = 1;
		rc |= j == -1;
	}
	if (!found) {
		say(c, LC_INFO, "port %d: no such tunnel", port);
		rc = 1;
	}
	return rc;
}

static int
remove_name(const struct lc_ctx *c, const struct tref *refs, size_t n,
    const char *name)
{
	size_t i;
	int found = 0, rc = 0;

	for (i = 0; i < n; i++)
		if (strcmp(refs[i].name, name) == 0) {
			found = 1;
			rc |= down(c, &refs[i]);
		}
	if (!found && legacy_name(name) > 0) {
		found = down_legacy(c, legacy_name(name));
		rc |= found == -1;
	}
	if (!found) {
		say(c, LC_INFO, "%s: no such tunnel", name);
		rc = 1;
	}
	return rc;
}

/*
 * Take tunnels down and remove their files: all of them, those with a
 * forward on port (scitex-ssh 1.0's unit of that port too), or those
 * named. 0 when every one is gone, 1 when one was not there or not taken
 * down (said through the note hook), -1 when the tunnels cannot be listed.
 */
int
lc_remove(const struct lc_ctx *c, const struct config *cf, int all, int port,
    char *const names[], size_t nnames, struct sxerr *e)
{
	struct tref *refs;
	size_t n, i;
	int rc = 0;

	if (backend_list(cf, &refs, &n, e) == -1)
		return -1;
	if (all) {
		for (i = 0; i < n; i++)
			rc |= down(c, &refs[i]);
	} else if (port != 0)
		rc = remove_port(c, cf, refs, n, port);
	else
		for (i = 0; i < nnames; i++)
			rc |= remove_name(c, refs, n, names[i]);
	free(refs);
	return rc;
}
