/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/stat.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "match.h"
#include "pcache.h"
#include "policy.h"

/* The compiled form's version: bumped whenever it, or what a valid file
 * is, changes, so that no older copy is used. */
#define PCACHE_KIND	"pol2"

struct feat {
	const char	*name;
	int		 allow;
	unsigned	 line, col;
};

struct policy_rule {
	const char	*pattern;	/* as written; NULL for default: */
	const char	*match;		/* canonical, what hosts are matched to */
	char		*own;		/* match's storage, when not the blob's */
	struct feat	*feat;
	size_t		 nfeat;
};

/* The features every file knows; a site declares more in features:. */
static const char *const known_feat[] = { "ssh", "tunnels", "copy", "exec",
	NULL };

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

/* Levenshtein distance, capped: enough to say "did you mean". */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[FEATURE_MAX + 1],
	    diag, up;

	if (la > FEATURE_MAX || lb > FEATURE_MAX)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		diag = d[0];
		d[0] = i;
		for (j = 1; j <= lb; j++) {
			up = d[j];
			d[j] = diag + (tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]));
			if (up + 1 < d[j])
				d[j] = up + 1;
			if (d[j - 1] + 1 < d[j])
				d[j] = d[j - 1] + 1;
			diag = up;
		}
	}
	return d[lb];
}

/* Compare name with candidate c: keep the closest so far in *near. */
static int
same(const char *c, const char *name, const char **near, size_t *best)
{
	size_t d;

	if (strcmp(c, name) == 0)
		return 1;
	if ((d = distance(c, name)) < *best) {
		*best = d;
		*near = c;
	}
	return 0;
}

/*
 * Is name a known or declared feature? If not, *near is the closest one
 * within two edits (a typo, a capital), or NULL.
 */
static int
known(const struct cnode *decl, const char *name, const char **near)
{
	size_t i, best = 3;

	*near = NULL;
	for (i = 0; known_feat[i] != NULL; i++)
		if (same(known_feat[i], name, near, &best))
			return 1;
	for (i = 0; decl != NULL && i < decl->nkid; i++)
		if (same(decl->kid[i]->str, name, near, &best))
			return 1;
	return 0;
}

/*
 * features: a list of the site's own feature names, lower case. The tree
 * has been checked for a sequence of scalars by then.
 */
static int
load_declared(struct policy *p, const struct cnode *f, struct sxerr *e)
{
	const char *s;
	size_t i, j;

	if (cnode_is_null(f))
		return 0;
	if (f->type != CN_SEQ)
		return config_err(e, p->path, f, "features: expected a list "
		    "of feature names");
	for (i = 0; i < f->nkid; i++) {
		if (f->kid[i]->type != CN_SCALAR)
			return config_err(e, p->path, f->kid[i], "features: "
			    "expected a feature name");
		s = f->kid[i]->str;
		for (j = 0; s[j] != '\0'; j++)
			if (isupper((unsigned char)s[j]))
				break;
		if (policy_valid_feature(s, NULL) == -1 || s[j] != '\0')
			return config_err(e, p->path, f->kid[i], "features: "
			    "\"%s\" is not a valid feature name: want 1 to 64 "
			    "of a-z 0-9 _ -", s);
	}
	return 0;
}

/* A map feature -> allow|deny, appended to p->feat (strings in the tree). */
static int
load_feats(struct policy *p, const struct cnode *m, struct policy_rule *r,
    const struct cnode *decl, struct sxerr *e)
{
	const char *near;
	const struct cnode *k, *v;
	struct feat *f;
	size_t i;

	r->feat = p->feat + p->nfeat;
	if (cnode_is_null(m))
		return 0;
	if (m->type != CN_MAP)
		return config_err(e, p->path, m, "expected a map of feature: "
		    "allow|deny");
	for (i = 0; i + 1 < m->nkid; i += 2) {
		k = m->kid[i];
		v = m->kid[i + 1];
		if (policy_valid_feature(k->str, NULL) == -1)
			return config_err(e, p->path, k, "\"%s\" is not a "
			    "valid feature name", k->str);
		/* A rule that names no feature anyone asks about never
		 * applies: a deny that silently does nothing. */
		if (!known(decl, k->str, &near) && near != NULL)
			return config_err(e, p->path, k, "unknown feature "
			    "\"%s\": did you mean \"%s\"? (declare a site's "
			    "own in features:)", k->str, near);
		if (!known(decl, k->str, &near))
			return config_err(e, p->path, k, "unknown feature "
			    "\"%s\": known are ssh, tunnels, copy, exec and "
			    "those declared in features:", k->str);
		if (v->type != CN_SCALAR || (strcmp(v->str, "allow") != 0 &&
		    strcmp(v->str, "deny") != 0))
			return config_err(e, p->path, v, "%s: expected allow "
			    "or deny", k->str);
		f = &p->feat[p->nfeat++];
		f->name = k->str;
		f->allow = v->str[0] == 'a';
		f->line = v->line;
		f->col = v->col;
		r->nfeat++;
	}
	return 0;
}

/* An upper bound on the features named anywhere, to size p->feat once. */
static size_t
count_feats(const struct cnode *dflt, const struct cnode *hosts)
{
	size_t n = 1, i;

	if (dflt != NULL && dflt->type == CN_MAP)
		n += dflt->nkid / 2;
	if (hosts != NULL && hosts->type == CN_MAP)
		for (i = 1; i < hosts->nkid; i += 2)
			if (hosts->kid[i]->type == CN_MAP)
				n += hosts->kid[i]->nkid / 2;
	return n;
}

/*
 * A hosts: pattern list in the form hosts are compared in: an element
 * without wildcards is validated and canonicalised as a host is; one with
 * wildcards is lower-cased and loses one trailing dot. An element no valid
 * host can match is an error: a deny rule that never applies is a hole.
 */
static int
canon_pattern(const char *list, char **outp, struct sxerr *e)
{
	char el[HOST_MAX + 2], c[sizeof(el)], *out;
	const char *p, *end;
	struct sxerr sub;
	size_t nel = 1, o = 0, len, i;
	int neg;

	for (p = list; *p != '\0'; p++)
		nel += *p == ',';
	/* an element grows at most to an address's canonical length */
	if ((out = malloc(strlen(list) + nel * (HOST_MAX + 2) + 1)) == NULL)
		return sxerr_errno(e, EX_OSERR, "policy");
	for (p = list; ; p = end + 1) {
		end = strchr(p, ',');
		len = end == NULL ? strlen(p) : (size_t)(end - p);
		neg = *p == '!';
		if (len - neg >= sizeof(el)) {
			sxerr_set(e, EX_CONFIG, "pattern \"%s\": element "
			    "longer than a host name", list);
			goto fail;
		}
		memcpy(el, p + neg, len - neg);
		el[len - neg] = '\0';
		if (strpbrk(el, "*?") == NULL) {
			if (host_canon(el, c, sizeof(c), &sub) == -1) {
				sxerr_set(e, EX_CONFIG, "pattern \"%s\" can "
				    "never match: %s", list, sub.msg);
				goto fail;
			}
		} else {
			for (i = 0; el[i] != '\0'; i++)
				c[i] = tolower((unsigned char)el[i]);
			if (i > 1 && c[i - 1] == '.')
				i--;
			c[i] = '\0';
			if (c[0] == '.' || c[i - 1] == '.' ||
			    strstr(c, "..") != NULL) {
				sxerr_set(e, EX_CONFIG, "pattern \"%s\" can "
				    "never match: an empty label in \"%s\"",
				    list, el);
				goto fail;
			}
		}
		o += (size_t)sprintf(out + o, "%s%s%s", o > 0 ? "," : "",
		    neg ? "!" : "", c);
		if (end == NULL)
			break;
	}
	*outp = out;
	return 0;
 fail:
	free(out);
	return -1;
}

static int
load_hosts(struct policy *p, const struct cnode *h, const struct cnode *decl,
    struct sxerr *e)
{
	const struct cnode *k;
	struct policy_rule *r;
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
		r = &p->rule[p->nrule++];
		if (match_list_check(k->str, &pe) == -1 ||
		    canon_pattern(k->str, &r->own, &pe) == -1)
			return config_err(e, p->path, k, "%s", pe.msg);
		r->pattern = k->str;
		r->match = r->own;
		if (load_feats(p, h->kid[i + 1], r, decl, e) == -1)
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
	const struct cnode *dflt, *hosts, *decl;
	struct policy *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return sxerr_errno(e, EX_OSERR, "policy");
	strlcpy(p->path, cf->path, sizeof(p->path));
	strlcpy(p->searched, cf->searched, sizeof(p->searched));
	if (cf->root != NULL) {
		dflt = cnode_get(cf->root, "default");
		hosts = cnode_get(cf->root, "hosts");
		decl = cnode_get(cf->root, "features");
		if (cnode_is_null(decl))
			decl = NULL;
		if ((p->dflt = calloc(1, sizeof(*p->dflt))) == NULL ||
		    (p->feat = calloc(count_feats(dflt, hosts),
		    sizeof(*p->feat))) == NULL) {
			policy_free(p);
			return sxerr_errno(e, EX_OSERR, "policy");
		}
		if (load_declared(p, decl, e) == -1 ||
		    load_feats(p, dflt, p->dflt, decl, e) == -1 ||
		    load_hosts(p, hosts, decl, e) == -1) {
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
	for (i = 0; p->rule != NULL && i < p->nrule; i++)
		free(p->rule[i].own);
	free(p->rule);
	free(p->dflt);
	free(p->feat);
	free(p->blob);
	config_free(p->cf);
	free(p);
}

/*
 * The compiled policy: u32 counts, then per rule (default: first) its
 * pattern and features; a string is a u32 length, the bytes and a NUL.
 */
struct flat {
	char	*buf;
	size_t	 len, cap;
	int	 bad;
};

static void
put(struct flat *f, const void *p, size_t n)
{
	char *b;

	if (f->bad)
		return;
	if (f->len + n > f->cap) {
		size_t cap = f->cap == 0 ? 4096 : f->cap;
		while (cap < f->len + n)
			cap *= 2;
		if ((b = realloc(f->buf, cap)) == NULL) {
			f->bad = 1;
			return;
		}
		f->buf = b;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, p, n);
	f->len += n;
}

static void
put32(struct flat *f, uint32_t v)
{
	put(f, &v, sizeof(v));
}

static void
putstr(struct flat *f, const char *s)
{
	size_t n = strlen(s);

	put32(f, n);
	put(f, s, n + 1);
}

static void
put_rule(struct flat *f, const struct policy_rule *r)
{
	size_t i;

	put32(f, r->nfeat);
	putstr(f, r->pattern == NULL ? "" : r->pattern);
	putstr(f, r->match == NULL ? "" : r->match);
	for (i = 0; i < r->nfeat; i++) {
		put32(f, r->feat[i].allow);
		put32(f, r->feat[i].line);
		put32(f, r->feat[i].col);
		putstr(f, r->feat[i].name);
	}
}

static int
flatten(const struct policy *p, struct flat *f)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	put32(f, p->nrule);
	put32(f, p->nfeat);
	put_rule(f, p->dflt);
	for (i = 0; i < p->nrule; i++)
		put_rule(f, &p->rule[i]);
	return f->bad ? -1 : 0;
}

struct cursor {
	char	*p, *end;
};

static int
get32(struct cursor *c, uint32_t *v)
{
	if ((size_t)(c->end - c->p) < sizeof(*v))
		return -1;
	memcpy(v, c->p, sizeof(*v));
	c->p += sizeof(*v);
	return 0;
}

static int
getstr(struct cursor *c, const char **s)
{
	uint32_t n;

	/* An inner NUL would only shorten the string: not worth a scan. */
	if (get32(c, &n) == -1 || (size_t)(c->end - c->p) < (size_t)n + 1 ||
	    c->p[n] != '\0')
		return -1;
	*s = c->p;
	c->p += n + 1;
	return 0;
}

static int
get_rule(struct cursor *c, struct policy *p, struct policy_rule *r,
    uint32_t maxfeat)
{
	uint32_t n, i, allow;

	if (get32(c, &n) == -1 || n > maxfeat - p->nfeat ||
	    getstr(c, &r->pattern) == -1 || getstr(c, &r->match) == -1)
		return -1;
	r->feat = p->feat + p->nfeat;
	for (i = 0; i < n; i++) {
		struct feat *f = &p->feat[p->nfeat++];
		if (get32(c, &allow) == -1 || get32(c, &f->line) == -1 ||
		    get32(c, &f->col) == -1 || getstr(c, &f->name) == -1)
			return -1;
		f->allow = allow != 0;
		r->nfeat++;
	}
	return 0;
}

/* Rebuild from a blob (which the policy then owns); -1 if it is not one. */
static int
unflatten(struct policy *p, char *blob, size_t len)
{
	struct cursor c = { blob, blob + len };
	uint32_t nrule, nfeat, i;

	if (get32(&c, &nrule) == -1 || get32(&c, &nfeat) == -1 ||
	    nrule > len || nfeat > len ||
	    (p->rule = calloc(nrule + 1, sizeof(*p->rule))) == NULL ||
	    (p->dflt = calloc(1, sizeof(*p->dflt))) == NULL ||
	    (p->feat = calloc(nfeat + 1, sizeof(*p->feat))) == NULL ||
	    get_rule(&c, p, p->dflt, nfeat) == -1)
		return -1;
	for (i = 0; i < nrule; i++, p->nrule++)
		if (get_rule(&c, p, &p->rule[i], nfeat) == -1)
			return -1;
	p->blob = blob;
	return c.p == c.end ? 0 : -1;
}

/*
 * The policy of the config file the search order finds. The compiled copy
 * is used when it matches the file exactly; otherwise the file is parsed
 * and checked in full, and the compiled copy refreshed.
 */
int
policy_open(const char *flag, struct policy **pp, struct sxerr *e)
{
	char path[4096], searched[2048];
	struct config *cf;
	struct policy *p;
	struct stat st;
	struct flat f;
	void *blob;
	size_t len;
	int have_st;

	memset(&f, 0, sizeof(f));
	if (config_find(flag, path, sizeof(path), searched, sizeof(searched),
	    e) == -1)
		return -1;
	have_st = path[0] != '\0' && stat(path, &st) == 0 &&
	    S_ISREG(st.st_mode);
	if (have_st && pcache_get(PCACHE_KIND, path, &st, &blob, &len) == 0) {
		if ((p = calloc(1, sizeof(*p))) != NULL &&
		    unflatten(p, blob, len) == 0) {
			strlcpy(p->path, path, sizeof(p->path));
			*pp = p;
			return 0;
		}
		if (p == NULL || p->blob == NULL)
			free(blob);
		policy_free(p);
	}
	if (config_open(flag, &cf, e) == -1)
		return -1;
	if (policy_load(cf, &p, e) == -1) {
		config_free(cf);
		return -1;
	}
	p->cf = cf;
	if (have_st && p->dflt != NULL && flatten(p, &f) == 0)
		pcache_put(PCACHE_KIND, path, &st, f.buf, f.len);
	free(f.buf);
	*pp = p;
	return 0;
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
		    match_list(host, p->rule[i].match) != 1)
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
