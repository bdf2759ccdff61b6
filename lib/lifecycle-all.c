/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/inotify.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dirwatch.h"
#include "lifecycle.h"
#include "lifecycle-priv.h"
#include "now.h"

/*
 * ssh-tunnel-up -a: every defined tunnel, started as ssh-tunnel-down -a
 * stops them: each supervisor started first (one systemctl call for the
 * units of a systemd backend), then each waited for, against one
 * deadline, so that 500 come up in about the time of one.
 */

enum { ONE_SKIP, ONE_UP, ONE_FAILED, ONE_LAUNCH, ONE_STARTED };

struct one {
	struct tref	 r;
	struct tunnel	*t;
	struct places	 pl;
	struct lc_start	 s;
	struct bstart	 bs;
	int		 fd;		/* our lock until handed on; -1 */
	int		 st;		/* ONE_* */
	int		 dirty;		/* its state file changed */
	struct sxerr	 e;		/* why, when ONE_FAILED */
};

/* o failed: e becomes its reason. Always -1. */
static int
failed(struct one *o, const struct sxerr *e)
{
	o->st = ONE_FAILED;
	o->e = *e;
	if (o->fd != -1)
		close(o->fd);
	o->fd = -1;
	return -1;
}

/*
 * The definitions ssh-tunnel-up NAME would start: of a name defined both
 * in the system's tunnels.d and the user's (or the config file), the
 * user's, as backend_lookup picks; the system's tunnels.d only for root,
 * whose they are.
 */
static void
choose(struct one *v, size_t n)
{
	size_t i, j, pick;

	for (i = 0; i < n; i = j) {
		pick = i;
		for (j = i + 1; j < n && strcmp(v[j].r.name, v[i].r.name) == 0;
		    j++)
			if (strcmp(v[j].r.b->name, "systemd") != 0)
				pick = j;
		v[pick].st = ONE_LAUNCH;
		if (!v[pick].r.in_config && geteuid() != 0 &&
		    strcmp(v[pick].r.b->name, "systemd") == 0)
			v[pick].st = ONE_SKIP;
	}
}

/*
 * What ssh-tunnel-up NAME checks before it starts one: its definition,
 * its key, what the backend needs; then its lock, taken, or held by a
 * supervisor already running it (up, as far as -a is concerned).
 */
static int
prepare(const struct lc_ctx *c, const struct config *cf,
    const struct backend *mb, struct one *o)
{
	char path[STATE_PATH];
	struct sxerr e;
	pid_t pid;
	int rc;

	if ((o->t = calloc(1, sizeof(*o->t))) == NULL) {
		sxerr_errno(&e, EX_OSERR, "calloc");
		return failed(o, &e);
	}
	o->s.t = o->t;
	o->s.b = mb != NULL ? mb : o->r.b;
	o->s.pl = &o->pl;
	if (backend_load(cf, &o->r, o->t, &e) == -1 ||
	    o->s.b->places(&o->pl, &e) == -1 ||
	    tunnel_check_key(o->t, &e) == -1 ||
	    lc_check(c, o->s.b, o->t, o->r.path, &e) == -1 ||
	    state_mkdir(o->pl.state, &e) == -1)
		return failed(o, &e);
	if (state_path(path, sizeof(path), o->pl.state, o->t->name,
	    ".lock") == -1) {
		sxerr_set(&e, EX_OSERR, "%s: path too long", o->pl.state);
		return failed(o, &e);
	}
	if ((rc = state_lock(path, &o->fd, &e)) == -1)
		return failed(o, &e);
	if (rc == 0)
		return 0;
	o->fd = -1;
	if (!backend_supervisor(&o->pl, o->t->name, &pid)) {
		sxerr_set(&e, 1, "another ssh-tunnel-up or ssh-tunnel-down is "
		    "at work on this tunnel");
		return failed(o, &e);
	}
	lc_say(c, LC_DEBUG, "%s: already running (pid %ld)", o->t->name,
	    (long)pid);
	o->st = ONE_UP;
	return 0;
}

/* The lock handed on (or not needed any more): ours closed. */
static void
started(const struct lc_ctx *c, struct one *o)
{
	if (o->bs.note[0] != '\0')
		lc_say(c, LC_INFO, "%s", o->bs.note);
	close(o->fd);
	o->fd = -1;
	o->st = ONE_STARTED;
}

/*
 * Start every one still to launch: through the backend's start_many
 * once for all of that backend's, else one start each (a detached
 * supervisor costs a posix_spawn, not a wait).
 */
static void
launch_all(const struct lc_ctx *c, struct one *v, size_t n)
{
	const struct backend *b;
	struct bstart *bs;
	struct sxerr e;
	size_t i, j, m;
	int bad;

	for (i = 0; i < n; i++)
		if (v[i].st == ONE_LAUNCH)
			lc_bstart(c, &v[i].s, v[i].fd, &v[i].bs);
	for (i = 0; i < n; i++) {
		if (v[i].st != ONE_LAUNCH)
			continue;
		b = v[i].s.b;
		if (b->start_many == NULL) {
			if (b->start(b, &v[i].bs, &e) == -1) {
				lc_prefixed(&e, "backend %s", b->name);
				failed(&v[i], &e);
			} else
				started(c, &v[i]);
			continue;
		}
		if ((bs = calloc(n - i, sizeof(*bs))) == NULL) {
			sxerr_errno(&e, EX_OSERR, "calloc");
			failed(&v[i], &e);
			continue;
		}
		for (j = i, m = 0; j < n; j++)
			if (v[j].st == ONE_LAUNCH && v[j].s.b == b)
				bs[m++] = v[j].bs;
		if ((bad = b->start_many(b, bs, m, &e) == -1))
			lc_prefixed(&e, "backend %s", b->name);
		for (j = i, m = 0; j < n; j++) {
			if (v[j].st != ONE_LAUNCH || v[j].s.b != b)
				continue;
			v[j].bs.pid = bs[m].pid;
			strlcpy(v[j].bs.note, bs[m].note,
			    sizeof(v[j].bs.note));
			m++;
			if (bad)
				failed(&v[j], &e);
			else
				started(c, &v[j]);
		}
		free(bs);
	}
}

/* "NAME: why", unless the reason names the tunnel already. */
static void
say_failed(const struct lc_ctx *c, const struct one *o)
{
	size_t len = strlen(o->r.name);

	if (strncmp(o->e.msg, o->r.name, len) == 0 &&
	    o->e.msg[len] == ':')
		lc_say(c, LC_ERR, "%s", o->e.msg);
	else
		lc_say(c, LC_ERR, "%s: %s", o->r.name, o->e.msg);
}

/*
 * An inotify descriptor on the state directories of those started: a
 * state table is renamed into place whenever it changes. -1 when there
 * is none to be had (every one is then looked at every round).
 */
static int
watch_states(const struct one *v, size_t n)
{
	const char **dirs;
	size_t i, k = 0;
	int fd;

	if ((dirs = calloc(n + 1, sizeof(*dirs))) == NULL)
		return -1;
	/* Neighbours share one mostly (v is in name order, and there are
	 * two directories at most, the user's and the system's); the
	 * kernel makes one watch of the rest. */
	for (i = 0; i < n; i++)
		if (v[i].st == ONE_STARTED && (k == 0 ||
		    strcmp(dirs[k - 1], v[i].pl.state) != 0))
			dirs[k++] = v[i].pl.state;
	fd = dirwatch_open(dirs, k, IN_MOVED_TO | IN_CLOSE_WRITE);
	free(dirs);
	return fd;
}

/* Those of name marked: v is in name order (backend_list's). */
static void
mark(struct one *v, size_t n, const char *name)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(v[mid].r.name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && strcmp(v[lo].r.name, name) == 0; lo++)
		v[lo].dirty = 1;
}

struct marks {
	struct one	*v;
	size_t		 n;
};

/* The tunnel of a state table that changed (NAME.state), marked. */
static void
marked(const char *file, void *arg)
{
	struct marks *m = arg;
	char name[NAME_MAX_LEN + 1];
	size_t k = strlen(file);

	if (k <= 6 || strcmp(file + k - 6, ".state") != 0 ||
	    k - 6 >= sizeof(name))
		return;
	memcpy(name, file, k - 6);
	name[k - 6] = '\0';
	mark(m->v, m->n, name);
}

/* The state tables that changed, marked; all of them when events were
 * lost. */
static void
changed(int fd, struct one *v, size_t n)
{
	struct marks m = { v, n };
	size_t i;

	if (dirwatch_drain(fd, marked, &m))
		for (i = 0; i < n; i++)
			v[i].dirty = 1;
}

/*
 * Every started one looked at in rounds, while the fleet makes progress:
 * until LC_WAIT_UP_MS after the last one seen up (a host's tunnels
 * connect 8 at a time, lib/slots.c: 500 take a minute here), or
 * LC_WAIT_BUSY_MS while one left finds its bastion busy, each one's
 * end said in the tunnels' order; the worst status. A round looks at
 * those whose state table changed, and every one each SWEEP rounds (a
 * supervisor that died writes nothing): 500 tables read ten times a
 * second were a second of CPU in a minute that the handshakes need.
 */
#define SWEEP	10

static int
wait_all(const struct lc_ctx *c, struct one *v, size_t n)
{
	long long t0 = now_ms(), until = t0 + LC_WAIT_UP_MS;
	long long busy_until = t0 + LC_WAIT_BUSY_MS;
	size_t i, left, busy;
	int worst = 0, rc, fd, round = 0, all;

	fd = watch_states(v, n);
	do {
		all = fd == -1 || round++ % SWEEP == 0;
		if (fd != -1)
			changed(fd, v, n);
		for (i = left = busy = 0; i < n; i++) {
			if (v[i].st != ONE_STARTED)
				continue;
			if (!all && !v[i].dirty) {
				left++;
				busy += v[i].s.busy;
				continue;
			}
			v[i].dirty = 0;
			if ((rc = lc_look_up(&v[i].s, v[i].bs.pid, 0,
			    &v[i].e)) == 0) {
				v[i].st = ONE_UP;
				until = now_ms() + LC_WAIT_UP_MS;
				busy_until = now_ms() + LC_WAIT_BUSY_MS;
			} else if (rc != 2)
				v[i].st = ONE_FAILED;
			else {
				left++;
				busy += v[i].s.busy;
			}
		}
	} while (left > 0 &&
	    lc_wait_on(now_ms(), until, busy_until, busy > 0) &&
	    lc_pause(c, 100) == 0);
	if (fd != -1)
		close(fd);
	for (i = 0; i < n; i++) {
		if (v[i].st == ONE_STARTED) {
			lc_not_confirmed(&v[i].s, t0, &v[i].e);
			v[i].st = ONE_FAILED;
		}
		if (v[i].st == ONE_UP)
			lc_say(c, LC_DEBUG, "%s: up", v[i].r.name);
		if (v[i].st != ONE_FAILED)
			continue;
		say_failed(c, &v[i]);
		if (v[i].e.ex > worst)
			worst = v[i].e.ex;
	}
	return worst;
}

/*
 * ssh-tunnel-up -a: every defined tunnel (tunnels.d, the config file's
 * tunnels:) started through backend mflag (NULL: each its own, as
 * ssh-tunnel-up NAME does), all at once; those running already are
 * left as they are. 0 when every one is up; otherwise the highest exit
 * status of those that are not, each said through the note hook as
 * "NAME: why"; -1 when none can be started (e says why).
 */
int
lc_setup_all(const struct lc_ctx *c, const char *mflag, struct sxerr *e)
{
	const struct backend *mb = NULL;
	struct config *cf;
	struct tref *refs = NULL;
	struct one *v = NULL;
	size_t n = 0, i;
	int rc = -1;

	if (config_open(c->config, &cf, e) == -1)
		return -1;
	if (lc_gate(cf, e) == -1 ||
	    (mflag != NULL && (mb = lc_backend(mflag, NULL, e)) == NULL) ||
	    backend_list(cf, BL_DEFINED, &refs, &n, e) == -1)
		goto out;
	if (n > 0 && (v = calloc(n, sizeof(*v))) == NULL) {
		sxerr_errno(e, EX_OSERR, "calloc");
		goto out;
	}
	for (i = 0; i < n; i++) {
		v[i].r = refs[i];
		v[i].fd = -1;
	}
	choose(v, n);
	for (i = 0; i < n; i++)
		if (v[i].st == ONE_LAUNCH)
			(void)prepare(c, cf, mb, &v[i]);
	launch_all(c, v, n);
	rc = wait_all(c, v, n);
	for (i = 0; i < n; i++) {
		if (v[i].fd != -1)
			close(v[i].fd);
		free(v[i].t);
	}
out:
	free(v);
	free(refs);
	config_free(cf);
	return rc;
}
