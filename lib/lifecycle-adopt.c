/* SPDX-License-Identifier: AGPL-3.0-only */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lifecycle.h"
#include "lifecycle-priv.h"

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
		return lc_prefixed(e, "--adopt");
	r = a->old;
	strlcpy(r.name, q->name, sizeof(r.name));
	if (backend_load(NULL, &r, &a->t, e) == -1)
		return lc_prefixed(e, "--adopt");
	if (config_open(c->config, &cf, e) == -1)
		return -1;
	if ((rc = backend_lookup(cf, q->name, &r, e)) == 0)
		rc = sxerr_set(e, 1, "--adopt: a tunnel named %s exists "
		    "already; name the new one: ssh-tunnel-up --adopt %d NAME",
		    q->name, port);
	else if (rc == 1 && ((a->s.b = lc_backend(q->backend, NULL, e)) ==
	    NULL || a->s.b->places(&a->pl, e) == -1 || lc_gate(cf, e) == -1 ||
	    tunnel_check_key(&a->t, e) == -1 ||
	    lc_check(c, a->s.b, &a->t, NULL, e) == -1))
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

	(void)a->s.b->stop(a->s.b, &a->pl, a->t.name, &ignore);
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
	(void)a->old.b->start(a->old.b, &bs, &ignore);
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
	if (a->old.b->stop(a->old.b, &a->pl, a->old.name, e) == -1) {
		lc_prefixed(e, "--adopt");
		goto out;
	}
	a->s.t = &a->t;
	a->s.defining = 1;
	a->s.pl = &a->pl;
	if ((rc = lc_start(c, &a->s, e)) == 1) {
		lc_say(c, LC_ERR, "%s", e->msg);
		rc = adopt_undo(a, adopt_back(a, e));
	} else if (rc == -1 || (!q->quiet &&
	    (rc = lc_block(fp, &a->t, a->s.bastion, e)) == -1))
		rc = adopt_undo(a, -1);
	else if ((rc = a->old.b->remove(&a->old, e)) == -1)
		lc_prefixed(e, "%s: up, but the old unit stays", a->t.name);
	else {
		lc_say(c, LC_INFO, "%s: adopted %s (removed)", a->t.name,
		    a->old.path);
		/* A backend without a unit is started by nothing at boot,
		 * where the 1.0 unit was. */
		if (a->s.b->unit_text == NULL)
			lc_say(c, LC_ERR, "%s: backend %s does not survive a "
			    "reboot, as the 1.0 unit did; for that: -m systemd "
			    "(root's key) or -m user with linger", a->t.name,
			    a->s.b->name);
	}
out:
	free(a);
	return rc;
}
