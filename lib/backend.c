/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "autossh.h"
#include "backend.h"
#include "host.h"
#include "legacy.h"
#include "spawn.h"
#include "sysd.h"
#include "userns.h"

enum { B_SYSTEMD, B_USER, B_DAEMON, B_AUTOSSH, NBACKEND };
static const struct backend backends[NBACKEND];

/*
 * The places of each backend, which every tref of it points to: one copy
 * (1 KiB) for all its tunnels, computed anew at each listing. The 1.0
 * units have none: their unit file is all they have. 1 KiB each: those
 * in use share a page of a supervisor's memory with its other globals.
 */
static struct places bplaces[NBACKEND];
static const struct places noplaces;

/*
 * Backends systemd and user: lib/sysd.c, for the unit kind each names in
 * its table entry.
 */
static int	daemon_stop(const struct backend *, const struct places *,
		    const char *, struct sxerr *);

static int
sd_available(const struct backend *b, struct sxerr *e)
{
	return sysd_available(b->unit, e);
}

/*
 * The n starts of v in one systemctl call: the names and the locks to
 * hand on, in arrays, as sysd_start takes them.
 */
static int
sd_start_many(const struct backend *b, struct bstart *v, size_t n,
    struct sxerr *e)
{
	const char **names;
	int *fds, rc = -1;
	size_t i;

	names = reallocarray(NULL, n, sizeof(*names));
	fds = reallocarray(NULL, n, sizeof(*fds));
	if (names == NULL || fds == NULL)
		sxerr_errno(e, EX_OSERR, "malloc");
	else {
		for (i = 0; i < n; i++) {
			names[i] = v[i].name;
			fds[i] = v[i].lockfd;
		}
		rc = sysd_start(b->unit, names, fds, n, v[0].self, e);
	}
	free(names);
	free(fds);
	return rc;
}

static int
sd_start(const struct backend *b, struct bstart *bs, struct sxerr *e)
{
	return sd_start_many(b, bs, 1, e);
}

/* A user tunnel may be run by the daemon: that is stopped too. */
static int
sd_stop(const struct backend *b, const struct places *pl, const char *name,
    struct sxerr *e)
{
	int unit, dmn = 0;

	if ((unit = sysd_stop(b->unit, name, e)) == -1 ||
	    (b->unit == UNIT_USER && (dmn = daemon_stop(b, pl, name, e)) == -1))
		return -1;
	return unit || dmn;
}

static int
sd_unit(const struct backend *b, const struct tunnel *t, const char *self,
    char *buf, size_t sz, struct sxerr *e)
{
	return sysd_unit(b->unit, t, self, buf, sz, e);
}

/* A user unit: whenever linger is off, whoever started it: said before. */
static int
sd_check(const struct backend *b, const struct tunnel *t, const char *src,
    char *note, size_t sz, struct sxerr *e)
{
	char user[64];
	size_t n = 0;

	if (sysd_check(b->unit, t, src, e) == -1)
		return -1;
	if (b->unit != UNIT_USER)
		return 0;
	if (!sysd_linger(user, sizeof(user)))
		n = snprintf(note, sz, "%s: linger is off for %s: the tunnel "
		    "stops when %s's last session ends; to keep it: loginctl "
		    "enable-linger %s", t->name, user, user, user);
	if (!userns_usable() && n < sz)
		snprintf(note + n, sz - n, "%s%s: no user namespaces here: the "
		    "user unit runs without its file system sandbox", n ? "; " :
		    "", t->name);
	return 0;
}

/* Backend daemon: a detached supervisor with a pid file, nothing else. */
static int
daemon_available(const struct backend *b, struct sxerr *e)
{
	return 0;
}

static int
daemon_start(const struct backend *be, struct bstart *b, struct sxerr *e)
{
	char log[STATE_PATH];
	char *argv[10];
	int n = 0;

	if (state_path(log, sizeof(log), b->pl->state, b->name, ".log") == -1)
		return sxerr_set(e, EX_OSERR, "%s: path too long",
		    b->pl->state);
	argv[n++] = (char *)b->self;
	argv[n++] = "-f";
	if (b->verbose)
		argv[n++] = "-v";
	if (b->config != NULL) {
		argv[n++] = "-F";
		argv[n++] = (char *)b->config;
	}
	argv[n++] = "--";
	argv[n++] = (char *)b->name;
	argv[n] = NULL;
	return spawn_detached(argv, log, b->lockfd, &b->pid, e);
}

/* 1 when NAME.pid names a live supervisor (name and start time agree). */
int
backend_supervisor(const struct places *pl, const char *name, pid_t *pid)
{
	char path[STATE_PATH];

	*pid = 0;
	if (state_path(path, sizeof(path), pl->state, name, ".pid") == -1)
		return 0;
	return state_pidfile_proven(path, SUPERVISOR_COMM, pid);
}

/*
 * SIGTERM to the daemon's supervisor of name if it is proven ours, without
 * waiting: ssh-tunnel-down -a signals every one first, then waits for
 * each, so that 500 stop in the time of one. 1 when one was signalled.
 */
int
backend_signal(const struct tref *r)
{
	pid_t pid;

	if (strcmp(r->b->name, "daemon") != 0 ||
	    !backend_supervisor(r->pl, r->name, &pid))
		return 0;
	return kill(pid, SIGTERM) == 0;
}

/* The supervisor proven by its start time (*arg) has ended. */
static int
supervisor_gone(pid_t pid, void *arg)
{
	return state_proc_gone(pid, *(unsigned long long *)arg);
}

/*
 * SIGTERM to the supervisor only once it is proven ours; it stops ssh and
 * exits within 5 s, and is waited for until it has ended, not merely
 * removed its pid file (its ssh dies with it). Returns 1 when one was
 * running, 0 when none was.
 */
static int
daemon_stop(const struct backend *b, const struct places *pl, const char *name,
    struct sxerr *e)
{
	unsigned long long start;
	pid_t pid;
	int fd, rc;

	if (!backend_supervisor(pl, name, &pid))
		return 0;
	/* Opened before the proof: the proof then holds for the pidfd. */
	fd = spawn_pidfd(pid);
	if (state_proc(pid, NULL, 0, &start) == -1)
		rc = 0;
	else if (spawn_end(pid, fd, 8000, supervisor_gone, &start) == -1)
		rc = errno == ESRCH ? 0 :
		    sxerr_errno(e, EX_NOPERM, "kill %ld", (long)pid);
	else
		rc = 1;
	if (fd != -1)
		close(fd);
	return rc;
}

/*
 * v, with room for item n of size sz: the array doubles whenever n
 * reaches a power of two (from 16), so that a thousand definitions are
 * copied a few times each, not a thousand. NULL when out of memory.
 */
static void *
room(void *v, size_t n, size_t sz)
{
	if (n == 0 || (n >= 16 && (n & (n - 1)) == 0))
		return reallocarray(v, n == 0 ? 16 : n * 2, sz);
	return v;
}

/* Append r. */
static int
add_ref(struct tref **v, size_t *n, const struct tref *r, struct sxerr *e)
{
	struct tref *nv;

	if ((nv = room(*v, *n, sizeof(*nv))) == NULL)
		return sxerr_errno(e, EX_OSERR, "tunnels");
	*v = nv;
	nv[(*n)++] = *r;
	return 0;
}

/*
 * A defined tunnel as list_defined collects it: about 100 bytes, where
 * its tref is 4 KiB (the path); a thousand trefs made at once were 4 MB
 * to copy and fault in. Each tref is made when it is handed on.
 */
struct bdef {
	char			 name[NAME_MAX_LEN + 1];
	const struct backend	*b;
	int			 in_config;	/* tunnels: section */
	unsigned		 line;
};

struct bdefs {
	struct bdef	*v;
	size_t		 n;
};

static int
add_def(struct bdefs *d, const struct bdef *r, struct sxerr *e)
{
	struct bdef *nv;

	if ((nv = room(d->v, d->n, sizeof(*nv))) == NULL)
		return sxerr_errno(e, EX_OSERR, "tunnels");
	d->v = nv;
	nv[d->n++] = *r;
	return 0;
}

/* The places of b, computed anew into its entry of bplaces. */
static const struct places *
places_of(const struct backend *b, struct sxerr *e)
{
	struct places *pl = &bplaces[b - backends];

	return b->places(pl, e) == -1 ? NULL : pl;
}

/*
 * Every NAME.yaml with a valid NAME in one tunnels.d (a name the path of
 * which is too long is none); only: that name's alone, looked up rather
 * than read out of the whole directory. One directory has each name once.
 */
static int
scan_defs(const struct backend *b, const char *only, struct bdefs *v,
    struct sxerr *e)
{
	const struct places *pl;
	char path[STATE_PATH];
	struct bdef r;
	struct dirent *d;
	struct sxerr ignore;
	struct stat sb;
	DIR *dir;
	size_t len;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	if ((pl = places_of(b, e)) == NULL)
		return -1;
	r.b = b;
	if (only != NULL) {
		/* What readdir would list: an entry of any kind. */
		if (tunnel_valid_name(only, &ignore) == -1 ||
		    strlcpy(r.name, only, sizeof(r.name)) >= sizeof(r.name) ||
		    state_path(path, sizeof(path), pl->defs, r.name,
		    ".yaml") == -1 || lstat(path, &sb) == -1)
			return 0;
		return add_def(v, &r, e);
	}
	if ((dir = opendir(pl->defs)) == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL) {
		len = strlen(d->d_name);
		if (len <= 5 || len - 5 > NAME_MAX_LEN ||
		    strcmp(d->d_name + len - 5, ".yaml") != 0)
			continue;
		memcpy(r.name, d->d_name, len - 5);
		r.name[len - 5] = '\0';
		if (tunnel_valid_name(r.name, &ignore) == -1 ||
		    state_path(path, sizeof(path), pl->defs, r.name,
		    ".yaml") == -1)
			continue;
		if ((rc = add_def(v, &r, e)) == -1)
			break;
	}
	closedir(dir);
	return rc;
}

/* The order of a name's entries as they are collected: systemd's
 * tunnels.d, the user's, the config file's. */
static int
def_rank(const struct bdef *d)
{
	return d->b == &backends[B_SYSTEMD] ? 0 : d->in_config ? 2 : 1;
}

static int
by_def(const void *a, const void *b)
{
	const struct bdef *x = a, *y = b;
	int c;

	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	if ((c = def_rank(x) - def_rank(y)) != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/*
 * Sorted by by_def: of the entries of one name with the same places
 * (the user's tunnels.d, the config file's tunnels:), the first only: a
 * written definition overrides the file's, the file's first key any
 * later one. The number kept.
 */
static size_t
dedupe(struct bdef *v, size_t n)
{
	size_t i, j, k = 0;

	for (i = 0; i < n; i++) {
		for (j = k; j > 0 && strcmp(v[j - 1].name, v[i].name) == 0;
		    j--)
			if (v[j - 1].b->places == v[i].b->places)
				break;
		if (j > 0 && strcmp(v[j - 1].name, v[i].name) == 0)
			continue;
		v[k++] = v[i];
	}
	return k;
}

/* A definition in tunnels.d or in the config file's tunnels: section. */
static int
defined_load(const struct config *cf, const struct tref *r, struct tunnel *t,
    struct sxerr *e)
{
	const struct cnode *tn;

	if (!r->in_config)
		return tunnel_load_file(r->path, r->name, t, e);
	tn = cnode_get(cf->root, "tunnels");
	return tunnel_from_node(r->name, cf->path, cnode_get(tn, r->name), t,
	    e);
}

/*
 * No supervisor runs: systemd's view, for its backends. 1 when it decided
 * (systemd restarting the supervisor, or the unit failed).
 */
static int
sysd_status(const struct tref *r, struct tstate *st)
{
	char inst[128], a[32];

	if (r->b->unit == -1 ||
	    unit_instance(r->name, inst, sizeof(inst), NULL) == -1 ||
	    sysd_active(r->b->unit, inst, a, sizeof(a)) == -1)
		return 0;
	/*
	 * Our supervisor has died and systemd is at work: seeing it gone
	 * (active still), stopping what is left of it (deactivating), or
	 * waiting to start it again (activating, auto-restart).
	 */
	if (strcmp(a, "activating") == 0 || strcmp(a, "active") == 0 ||
	    strcmp(a, "deactivating") == 0 || strcmp(a, "reloading") == 0)
		strlcpy(st->state, "backoff", sizeof(st->state));
	else if (strcmp(a, "failed") == 0)
		strlcpy(st->state, "failed", sizeof(st->state));
	else
		return 0;
	if (st->reason[0] == '\0')
		strlcpy(st->reason, "exited", sizeof(st->reason));
	st->pid = st->ssh_pid = 0;
	st->up_since = 0;
	return 1;
}

/*
 * The supervisor's table, unless no proven supervisor runs, in which case
 * the tunnel is stopped (cleanly) or failed (its supervisor died without
 * saying so).
 */
static void
supervised_state(const struct tref *r, const struct held *held,
    struct tstate *st)
{
	char path[STATE_PATH];
	struct sxerr e;
	pid_t pid;
	int alive, listed, rc, up;

	rc = state_path(path, sizeof(path), r->pl->state, r->name,
	    ".state") == -1 ? -1 : state_read(path, st, &e);
	up = rc == 0 && strcmp(st->state, "up") == 0;
	/*
	 * The lock its writer took on the tunnel (NAME.lock) held: the
	 * supervisor runs, or ssh-tunnel-up or -down is at work on the
	 * tunnel (starting one, or after it ended). A look at what
	 * /proc/locks listed once for every row, where each proof of a
	 * process costs a read of its /proc/PID/stat.
	 */
	listed = rc == 0 && st->pid > 0 && st->lock_ino != 0 &&
	    held_has(held, (dev_t)st->lock_dev, (ino_t)st->lock_ino);
	/*
	 * The table names its writer and its ssh: the lock its ssh holds
	 * (its stdin) listed as well as the tunnel's proves an up row (the
	 * one lock alone could be another boot's); else an ssh that still
	 * runs, started when the table says, as the writer's child proves
	 * both (a process whose parent ends is given another). The writer
	 * alone for a tunnel without ssh. The pid file for the rest: a
	 * supervisor that has not yet written its table, one that wrote it
	 * without the start times, none.
	 */
	if (up && listed && st->ssh_ino != 0 &&
	    held_has(held, (dev_t)st->ssh_dev, (ino_t)st->ssh_ino))
		return;
	if (up && st->ssh_start != 0 &&
	    state_child_proven(st->ssh_pid, st->pid, st->ssh_start))
		return;
	if (listed) {
		alive = 1;
		pid = st->pid;
	} else if (rc == 0 && st->start != 0 &&
	    state_proven(st->pid, SUPERVISOR_COMM, st->start)) {
		alive = 1;
		pid = st->pid;
	} else
		alive = backend_supervisor(r->pl, r->name, &pid);
	if (rc == -1) {
		memset(st, 0, sizeof(*st));
		strlcpy(st->state, alive ? "connecting" : "stopped",
		    sizeof(st->state));
		st->pid = alive ? pid : 0;
		return;
	}
	/*
	 * Up, but its ssh has exited (gone, a zombie, or the pid is now
	 * another's): the supervisor has not yet said so, as when a herd
	 * starves it of CPU. Not up, then, from the moment ssh ends.
	 */
	if (alive && strcmp(st->state, "up") == 0 &&
	    !state_proc_child(st->ssh_pid, pid)) {
		strlcpy(st->state, "connecting", sizeof(st->state));
		st->ssh_pid = 0;
		st->up_since = 0;
	}
	if (alive)
		return;
	if (strcmp(st->state, "stopped") != 0 && sysd_status(r, st))
		return;
	if (strcmp(st->state, "stopped") != 0) {
		strlcpy(st->state, "failed", sizeof(st->state));
		if (st->reason[0] == '\0')
			strlcpy(st->reason, "exited", sizeof(st->reason));
	}
	st->pid = st->ssh_pid = 0;
	st->up_since = 0;
}

/* Backend autossh: scitex-ssh 1.0's units, named autossh-tunnel-PORT. */
static int
as_available(const struct backend *b, struct sxerr *e)
{
	return sxerr_set(e, EX_USAGE, "scitex-ssh 1.0's units are adopted "
	    "(--adopt), not started anew");
}

static void
as_ref(const struct legacy *l, struct tref *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), LEGACY_PREFIX "%d", l->port);
	strlcpy(r->path, l->path, sizeof(r->path));
	r->port = l->port;
	r->b = &backends[B_AUTOSSH];
	r->pl = &noplaces;
}

static int
as_list(struct tref **v, size_t *n, struct sxerr *e)
{
	struct legacy *l;
	struct tref r;
	size_t nl, i;
	int rc = 0;

	if (legacy_list(&l, &nl, e) == -1)
		return -1;
	for (i = 0; i < nl && rc == 0; i++) {
		as_ref(&l[i], &r);
		rc = add_ref(v, n, &r, e);
	}
	free(l);
	return rc;
}

/* The unit of r (port, and path when known), read afresh. */
static int
as_unit(const struct tref *r, struct legacy *out, struct sxerr *e)
{
	struct legacy *l;
	size_t n, i;

	if (r->path[0] == '\0')
		return legacy_find(r->port, out, e);
	if (legacy_list(&l, &n, e) == -1)
		return -1;
	for (i = 0; i < n && strcmp(l[i].path, r->path) != 0; i++)
		;
	if (i < n)
		*out = l[i];
	free(l);
	if (i == n)
		return sxerr_set(e, EX_UNAVAILABLE, "%s: gone", r->path);
	return 0;
}

/* The 1.0 unit of the port named name, started again or stopped. */
static int
as_ctl(const char *name, int restart, struct sxerr *e)
{
	struct tref r;
	struct legacy l;

	memset(&r, 0, sizeof(r));
	if ((r.port = legacy_name_port(name)) <= 0)
		return sxerr_set(e, EX_DATAERR, "%s: not a unit of scitex-ssh "
		    "1.0", name);
	if (as_unit(&r, &l, e) == -1)
		return -1;
	return autossh_stop(&l, restart, e);
}

static int
as_start(const struct backend *be, struct bstart *b, struct sxerr *e)
{
	return as_ctl(b->name, 1, e);
}

static int
as_stop(const struct backend *b, const struct places *pl, const char *name,
    struct sxerr *e)
{
	return as_ctl(name, 0, e);
}

/* The unit's tunnel, named as r is (adopt names it anew). */
static int
as_load(const struct config *cf, const struct tref *r, struct tunnel *t,
    struct sxerr *e)
{
	struct legacy l;

	if (as_unit(r, &l, e) == -1)
		return -1;
	return legacy_tunnel(&l, r->name, t, e);
}

static void
as_state(const struct tref *r, const struct held *held, struct tstate *st)
{
	struct legacy l;
	struct sxerr e;

	(void)held;	/* systemd's units, no lock of ours */
	memset(st, 0, sizeof(*st));
	if (as_unit(r, &l, &e) == -1)
		strlcpy(st->state, "stopped", sizeof(st->state));
	else
		autossh_state(&l, st);
}

static int
as_remove(const struct tref *r, struct sxerr *e)
{
	struct legacy l;

	if (as_unit(r, &l, e) == -1)
		return -1;
	return autossh_remove(&l, e);
}

static const struct backend backends[NBACKEND] = {
	[B_SYSTEMD] = { "systemd", 1, UNIT_SYSTEM, sd_available,
	    state_places_system, sd_start, sd_stop, sd_unit, defined_load,
	    supervised_state, NULL, NULL, sd_check, sd_start_many },
	[B_USER] = { "user", 1, UNIT_USER, sd_available, state_places_user,
	    sd_start, sd_stop, sd_unit, defined_load, supervised_state, NULL,
	    NULL, sd_check, sd_start_many },
	[B_DAEMON] = { "daemon", 1, -1, daemon_available, state_places_user,
	    daemon_start, daemon_stop, NULL, defined_load, supervised_state,
	    NULL, NULL, NULL, NULL },
	[B_AUTOSSH] = { "autossh", 0, -1, as_available, state_places_user,
	    as_start, as_stop, NULL, as_load, as_state, as_list, as_remove,
	    NULL, NULL },
};

/*
 * The definitions, sorted and deduplicated, each with its backend; only:
 * those of that name alone (backend_lookup: a supervisor starting among
 * 500 read all 500 and made a tref of each, 6 MB, to keep one).
 */
static int
list_defined(const struct config *cf, const char *only, struct bdefs *d,
    struct sxerr *e)
{
	const struct backend *dmn = &backends[B_DAEMON];
	const struct cnode *tn;
	struct sysd_wants uw = { NULL, 0 };
	struct bdef r, *v;
	size_t i;

	if (scan_defs(&backends[B_SYSTEMD], only, d, e) == -1 ||
	    scan_defs(dmn, only, d, e) == -1)
		return -1;
	tn = cf != NULL && cf->root != NULL ? cnode_get(cf->root, "tunnels") :
	    NULL;
	if (tn != NULL && tn->type == CN_MAP) {
		for (i = 0; i + 1 < tn->nkid; i += 2) {
			if (only != NULL && strcmp(tn->kid[i]->str, only) != 0)
				continue;
			memset(&r, 0, sizeof(r));
			if (strlcpy(r.name, tn->kid[i]->str, sizeof(r.name)) >=
			    sizeof(r.name))
				continue;
			r.b = dmn;
			r.in_config = 1;
			r.line = tn->kid[i]->line;
			if (add_def(d, &r, e) == -1)
				return -1;
		}
	} else if (tn != NULL && !cnode_is_null(tn))
		return config_err(e, cf->path, tn, "tunnels: want a map of "
		    "names");
	/* Sorted and deduplicated: a linear scan for each was O(n^2). */
	if (d->n > 0)
		qsort(d->v, d->n, sizeof(*d->v), by_def);
	d->n = dedupe(d->v, d->n);
	/*
	 * The backend of a tunnels: entry is where it was started: enabled
	 * under the system manager (from /etc/scitex-ssh/config.yaml) or
	 * the user's; its state goes where that backend's goes.
	 */
	/* The wants directory read once for a listing, one link else. */
	if (only == NULL && sysd_wants_read(UNIT_USER, &uw) == -1)
		return sxerr_errno(e, EX_OSERR, "malloc");
	for (i = 0, v = d->v; i < d->n; i++) {
		if (v[i].b != dmn)
			continue;
		if (v[i].in_config && sysd_system_sees(cf->path) &&
		    sysd_enabled(UNIT_SYSTEM, v[i].name))
			v[i].b = &backends[B_SYSTEMD];
		else if (only != NULL ? sysd_enabled(UNIT_USER, v[i].name) :
		    sysd_wants_has(&uw, v[i].name))
			v[i].b = &backends[B_USER];
	}
	sysd_wants_free(&uw);
	return 0;
}

/*
 * The tref of d: the places its backend's as list_defined left them (the
 * user's for backends user and daemon); the file it is read from.
 */
static void
def_ref(const struct config *cf, const struct bdef *d, struct tref *r)
{
	memset(r, 0, sizeof(*r));
	strlcpy(r->name, d->name, sizeof(r->name));
	r->b = d->b;
	r->pl = &bplaces[d->b == &backends[B_SYSTEMD] ? B_SYSTEMD : B_DAEMON];
	r->in_config = d->in_config;
	r->line = d->line;
	if (d->in_config)
		strlcpy(r->path, cf->path, sizeof(r->path));
	else
		(void)state_path(r->path, sizeof(r->path), r->pl->defs,
		    r->name, ".yaml");	/* not too long: scan_defs saw */
}

/* A backend -m may name. */
const struct backend *
backend_find(const char *name, struct sxerr *e)
{
	size_t i;

	for (i = 0; i < NBACKEND; i++)
		if (backends[i].defines && strcmp(backends[i].name, name) == 0)
			return &backends[i];
	sxerr_set(e, EX_USAGE, "%.40s: no such backend (systemd, user, "
	    "daemon)", name);
	return NULL;
}

/* The first backend that works here. */
const struct backend *
backend_pick(struct sxerr *e)
{
	size_t i;

	for (i = 0; i < NBACKEND; i++)
		if (backends[i].defines && backends[i].available(&backends[i], e) == 0)
			return &backends[i];
	return NULL;
}

/*
 * Every defined tunnel, sorted by name (BL_DEFINED): tunnels.d of the
 * system and of the user, then the config file's tunnels: entries not
 * already defined in the user's tunnels.d (a written definition overrides
 * the file's). Then (BL_OTHERS) what the backends that take no
 * definitions list, in their order. Each is handed to fn, made in one
 * tref in turn; fn's -1 ends the listing. When only the others could not
 * be listed, fn is first handed NULL, e saying why, and 1 is returned
 * once the rest has been handed on; -1 on error.
 */
int
backend_each(const struct config *cf, int which, backend_fn fn, void *arg,
    struct sxerr *e)
{
	struct bdefs d = { NULL, 0 };
	struct tref *r, *v = NULL;
	size_t n = 0, i;
	int rc = 0;

	if ((r = malloc(sizeof(*r))) == NULL)
		return sxerr_errno(e, EX_OSERR, "malloc");
	if ((which & BL_DEFINED) && list_defined(cf, NULL, &d, e) == -1)
		rc = -1;
	for (i = 0; rc != -1 && (which & BL_OTHERS) && i < NBACKEND; i++)
		if (backends[i].list != NULL &&
		    backends[i].list(&v, &n, e) == -1)
			rc = 1;
	if (rc == 1 && fn(arg, NULL, e) == -1)
		rc = -1;
	for (i = 0; rc != -1 && i < d.n; i++) {
		def_ref(cf, &d.v[i], r);
		if (fn(arg, r, e) == -1)
			rc = -1;
	}
	for (i = 0; rc != -1 && i < n; i++)
		if (fn(arg, &v[i], e) == -1)
			rc = -1;
	free(v);
	free(d.v);
	free(r);
	return rc;
}

struct reflist {
	struct tref	*v;
	size_t		 n;
};

static int
append(void *arg, const struct tref *r, struct sxerr *e)
{
	struct reflist *l = arg;

	return r == NULL ? 0 : add_ref(&l->v, &l->n, r, e);
}

/* backend_each's, into *vp, the caller's to free. */
int
backend_list(const struct config *cf, int which, struct tref **vp,
    size_t *np, struct sxerr *e)
{
	struct reflist l = { NULL, 0 };
	int rc;

	*vp = NULL;
	*np = 0;
	if ((rc = backend_each(cf, which, append, &l, e)) == -1) {
		free(l.v);
		return -1;
	}
	*vp = l.v;
	*np = l.n;
	return rc;
}

/* The definition named name (the user's before the system's); 1 if none. */
int
backend_lookup(const struct config *cf, const char *name, struct tref *r,
    struct sxerr *e)
{
	struct bdefs d = { NULL, 0 };
	size_t i;
	int found = 0;

	if (list_defined(cf, name, &d, e) == -1) {
		free(d.v);
		return -1;
	}
	for (i = 0; i < d.n; i++) {
		if (!found || d.v[i].b != &backends[B_SYSTEMD])
			def_ref(cf, &d.v[i], r);
		found = 1;
	}
	free(d.v);
	return found ? 0 : 1;
}

/* scitex-ssh 1.0's unit for port, as a tunnel of backend autossh. */
int
backend_autossh(int port, struct tref *r, struct sxerr *e)
{
	struct legacy l;

	if (legacy_find(port, &l, e) == -1)
		return -1;
	as_ref(&l, r);
	return 0;
}

int
backend_load(const struct config *cf, const struct tref *r, struct tunnel *t,
    struct sxerr *e)
{
	return r->b->load(cf, r, t, e);
}

/*
 * The state as ssh-tunnel-ls shows it; held: the locks listed in
 * /proc/locks for every row, or NULL.
 */
void
backend_status(const struct tref *r, const struct held *held,
    struct tstate *st)
{
	r->b->state(r, held, st);
}
