/* SPDX-License-Identifier: AGPL-3.0-only */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "policy.h"

struct feat {
	const char	*name;
	int		 allow;
	unsigned	 line, col;
};

struct policy_rule {
	const char	*pattern;	/* NULL for default: */
	struct feat	*feat;
	size_t		 nfeat;
};

/* Feature names: 1 to 64 of A-Z a-z 0-9 _ -, starting alphanumeric. */
int
policy_valid_feature(const char *f, struct sxerr *e)
{
	size_t i;

	for (i = 0; f[i] != '\0' && i < FEATURE_MAX; i++)
		if (!isalnum((unsigned char)f[i]) &&
		    (i == 0 || (f[i] != '_' && f[i] != '-')))
			break;
	if (i > 0 && f[i] == '\0')
		return 0;
	return sxerr_set(e, EX_DATAERR, "not a valid feature name: want 1 to "
	    "64 of A-Z a-z 0-9 _ -");
}

/* A map feature -> allow|deny, pointing into the tree (kept alive). */
static int
load_feats(const char *path, const struct cnode *m, struct policy_rule *r,
    struct sxerr *e)
{
	const struct cnode *k, *v;
	size_t i;

	if (cnode_is_null(m))
		return 0;
	if (m->type != CN_MAP)
		return config_err(e, path, m, "expected a map of feature: "
		    "allow|deny");
	if ((r->feat = calloc(m->nkid / 2 + 1, sizeof(*r->feat))) == NULL)
		return sxerr_errno(e, EX_OSERR, "policy");
	for (i = 0; i + 1 < m->nkid; i += 2) {
		k = m->kid[i];
		v = m->kid[i + 1];
		if (policy_valid_feature(k->str, NULL) == -1)
			return config_err(e, path, k, "\"%s\" is not a valid "
			    "feature name", k->str);
		if (v->type != CN_SCALAR || (strcmp(v->str, "allow") != 0 &&
		    strcmp(v->str, "deny") != 0))
			return config_err(e, path, v, "%s: expected allow or "
			    "deny", k->str);
		r->feat[r->nfeat].name = k->str;
		r->feat[r->nfeat].allow = v->str[0] == 'a';
		r->feat[r->nfeat].line = v->line;
		r->feat[r->nfeat].col = v->col;
		r->nfeat++;
	}
	return 0;
}

static int
load_hosts(struct policy *p, const struct cnode *h, struct sxerr *e)
{
	const struct cnode *k;
	struct sxerr pe;
	size_t i;

	if (cnode_is_null(h))
		return 0;
	if (h->type != CN_MAP)
		return config_err(e, p->path, h, "hosts: expected a map of "
		    "pattern: {feature: allow|deny}");
	if ((p->rule = calloc(h->nkid / 2 + 1, sizeof(*p->rule))) == NULL)
		return sxerr_errno(e, EX_OSERR, "policy");
	for (i = 0; i + 1 < h->nkid; i += 2) {
		k = h->kid[i];
		if (match_list_check(k->str, &pe) == -1)
			return config_err(e, p->path, k, "%s", pe.msg);
		p->rule[p->nrule].pattern = k->str;
		if (load_feats(p->path, h->kid[i + 1], &p->rule[p->nrule++],
		    e) == -1)
			return -1;
	}
	return 0;
}

/*
 * Build the policy from a loaded config: default: and hosts: checked in
 * full, so that a mistake anywhere in them is an error, never a partial
 * decision. The policy points into cf's tree: free it first.
 */
int
policy_load(const struct config *cf, struct policy **pp, struct sxerr *e)
{
	struct policy *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return sxerr_errno(e, EX_OSERR, "policy");
	strlcpy(p->path, cf->path, sizeof(p->path));
	strlcpy(p->searched, cf->searched, sizeof(p->searched));
	if (cf->root != NULL) {
		if ((p->dflt = calloc(1, sizeof(*p->dflt))) == NULL) {
			policy_free(p);
			return sxerr_errno(e, EX_OSERR, "policy");
		}
		if (load_feats(p->path, cnode_get(cf->root, "default"),
		    p->dflt, e) == -1 ||
		    load_hosts(p, cnode_get(cf->root, "hosts"), e) == -1) {
			policy_free(p);
			return -1;
		}
	}
	*pp = p;
	return 0;
}

void
policy_free(struct policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nrule; i++)
		free(p->rule[i].feat);
	free(p->rule);
	if (p->dflt != NULL)
		free(p->dflt->feat);
	free(p->dflt);
	free(p);
}

static const struct feat *
find_feat(const struct policy_rule *r, const char *feature)
{
	size_t i;

	for (i = 0; i < r->nfeat; i++)
		if (strcmp(r->feat[i].name, feature) == 0)
			return &r->feat[i];
	return NULL;
}

/*
 * May feature be used with host (canonical)? The first hosts: entry whose
 * pattern matches and that names the feature decides; then default:; then
 * deny. No file: deny.
 */
void
policy_decide(const struct policy *p, const char *host, const char *feature,
    struct decision *d)
{
	const struct feat *f;
	size_t i;

	memset(d, 0, sizeof(*d));
	d->feature = feature;
	d->path = p->path;
	if (p->path[0] == '\0') {
		d->by = DEC_NOFILE;
		return;
	}
	for (i = 0; i < p->nrule; i++) {
		if ((f = find_feat(&p->rule[i], feature)) == NULL ||
		    match_list(host, p->rule[i].pattern) != 1)
			continue;
		d->by = DEC_RULE;
		d->pattern = p->rule[i].pattern;
		goto found;
	}
	if (p->dflt == NULL || (f = find_feat(p->dflt, feature)) == NULL) {
		d->by = DEC_NONE;
		return;
	}
	d->by = DEC_DEFAULT;
found:
	d->allow = f->allow;
	d->line = f->line;
	d->col = f->col;
}

/* One line: which rule decided, where it is, what it said. */
void
policy_explain(const struct decision *d, const char *host, char *buf,
    size_t sz)
{
	const char *v = d->allow ? "allow" : "deny";

	switch (d->by) {
	case DEC_RULE:
		snprintf(buf, sz, "%s:%u:%u: hosts: \"%s\": %s: %s", d->path,
		    d->line, d->col, d->pattern, d->feature, v);
		break;
	case DEC_DEFAULT:
		snprintf(buf, sz, "%s:%u:%u: default: %s: %s (no hosts: entry "
		    "for %s names %s)", d->path, d->line, d->col, d->feature, v,
		    host, d->feature);
		break;
	case DEC_NONE:
		snprintf(buf, sz, "%s: neither hosts: nor default: names %s: "
		    "deny", d->path, d->feature);
		break;
	case DEC_NOFILE:
		snprintf(buf, sz, "no config file: deny");
		break;
	}
}
