/* SPDX-License-Identifier: AGPL-3.0-only */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host.h"
#include "lifecycle.h"
#include "lifecycle-priv.h"
#include "spawn.h"
#include "text.h"

#define PROBE_MS	((TUN_CONNECT_TIMEOUT + 5) * 1000)

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
 * A row for ref if it is wanted, with its state, into rows->v (room for
 * all). A definition that does not load is said and makes the listing
 * bad; a unit of another tool that does not read shows as its state says.
 */
static void
add_row(const struct lc_ctx *c, const struct config *cf,
    const struct lc_sel *sel, const struct tref *ref, struct lc_rows *rows,
    char *seen)
{
	struct lc_row *r = &rows->v[rows->n];
	struct sxerr le;

	if (!wanted(ref->name, sel->names, sel->nnames, seen))
		return;
	memset(r, 0, sizeof(*r));
	r->ref = *ref;
	if (backend_load(cf, &r->ref, &r->t, &le) == 0)
		r->loaded = 1;
	else if (r->ref.b->defines) {
		lc_say(c, LC_ERR, "%s", le.msg);
		rows->bad = 1;
	}
	if (sel->port != 0 && (r->ref.port != 0 ? r->ref.port != sel->port :
	    !row_has_port(r, sel->port)))
		return;
	backend_status(&r->ref, &r->st);
	rows->n++;
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
		lc_say(c, LC_ERR, "%s", le.msg);
	if ((rows->v = calloc(nref + 1, sizeof(*rows->v))) == NULL ||
	    (seen = calloc(sel->nnames + 1, 1)) == NULL) {
		free(rows->v);
		free(refs);
		rows->v = NULL;
		return sxerr_errno(e, EX_OSERR, "calloc");
	}
	for (i = 0; i < nref; i++)
		add_row(c, cf, sel, &refs[i], rows, seen);
	free(refs);
	for (i = 0; i < sel->nnames; i++)
		if (!seen[i]) {
			lc_say(c, LC_ERR, "%s: no such tunnel", sel->names[i]);
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
