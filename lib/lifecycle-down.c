/* SPDX-License-Identifier: AGPL-3.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lifecycle.h"
#include "lifecycle-priv.h"

/* ssh-tunnel-down. */

static void
rm(const struct lc_ctx *c, const char *dir, const char *name, const char *ext)
{
	char path[STATE_PATH];

	if (state_path(path, sizeof(path), dir, name, ext) == -1)
		return;
	if (unlink(path) == 0)
		lc_say(c, LC_DEBUG, "removed %s", path);
	else if (errno != ENOENT)
		lc_say(c, LC_ERR, "%s: %s", path, strerror(errno));
}

/* A backend that removes its own: 0 done, 1 not done. */
static int
down_other(const struct lc_ctx *c, const struct tref *r)
{
	struct sxerr e;

	if (r->b->remove(r, &e) == -1) {
		lc_say(c, LC_ERR, "%s", e.msg);
		return 1;
	}
	lc_say(c, LC_DEBUG, "%s: removed", r->path);
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
	if ((stopped = r->b->stop(r->b, r->pl, r->name, &e)) == -1) {
		lc_say(c, LC_ERR, "%s: backend %s: %s", r->name, r->b->name,
		    e.msg);
		return 1;
	}
	if (stopped)
		lc_say(c, LC_DEBUG, "%s: stopped", r->name);
	if (state_path(lock, sizeof(lock), r->pl->state, r->name,
	    ".lock") == -1) {
		lc_say(c, LC_ERR, "%s: path too long", r->pl->state);
		return 1;
	}
	if (access(lock, F_OK) == 0) {
		for (i = 0; i < 30 && (rc = state_lock(lock, &fd, &e)) == 1;
		    i++)
			nanosleep(&ts, NULL);
		if (rc != 0) {
			lc_say(c, LC_ERR, "%s: busy: another ssh-tunnel-up or "
			    "ssh-tunnel-down is at work on it", r->name);
			return 1;
		}
	}
	if (r->in_config)
		lc_say(c, LC_ERR, "%s: defined in %s:%u; remove it there",
		    r->name, r->path, r->line);
	else
		rm(c, r->pl->defs, r->name, ".yaml");
	rm(c, r->pl->state, r->name, ".state");
	rm(c, r->pl->state, r->name, ".pid");
	rm(c, r->pl->state, r->name, ".log");
	rm(c, r->pl->state, r->name, ".lock");
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
		lc_say(c, LC_INFO, "port %d: no such tunnel", port);
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
		lc_say(c, LC_INFO, "%s: no such tunnel", name);
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
		lc_say(c, LC_ERR, "%s", le.msg);
	rc = 0;
	if (sel->all) {
		/* Every supervisor told first, then each waited for: 500
		 * stop in about the time of one. */
		for (i = 0; i < n; i++)
			(void)backend_signal(&refs[i]);
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
