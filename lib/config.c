/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "config.h"
#include "slurp.h"
#include "xdg.h"

#define CONFIG_MAXSIZE	(16 * 1024 * 1024)
#define CONFIG_MAXDEPTH	32

static const char *const toplevel[] = { "default", "hosts", "tunnels", "copy",
	"features", NULL };

int
config_err(struct sxerr *e, const char *path, const struct cnode *n,
    const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n == NULL)
		return sxerr_set(e, EX_CONFIG, "%s: %s", path, msg);
	return sxerr_set(e, EX_CONFIG, "%s:%u:%u: %s", path, n->line, n->col,
	    msg);
}

void
cnode_free(struct cnode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkid; i++)
		cnode_free(n->kid[i]);
	free(n->kid);
	free(n->str);
	free(n);
}

/* The value under key in a map, or NULL. */
const struct cnode *
cnode_get(const struct cnode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->type != CN_MAP)
		return NULL;
	for (i = 0; i + 1 < map->nkid; i += 2)
		if (strcmp(map->kid[i]->str, key) == 0)
			return map->kid[i + 1];
	return NULL;
}

/* YAML null: an empty plain scalar, ~, null. */
int
cnode_is_null(const struct cnode *n)
{
	return n == NULL || (n->type == CN_SCALAR && n->plain &&
	    (n->str[0] == '\0' || strcmp(n->str, "~") == 0 ||
	    strcmp(n->str, "null") == 0 || strcmp(n->str, "Null") == 0 ||
	    strcmp(n->str, "NULL") == 0));
}

static struct cnode *
node_new(enum cnode_type t, const yaml_mark_t *m)
{
	struct cnode *n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->type = t;
	n->line = m->line + 1;
	n->col = m->column + 1;
	return n;
}

/* Capacity doubles at 4, 8, 16...: implied by nkid, so not stored. */
static int
node_add(struct cnode *parent, struct cnode *kid)
{
	struct cnode **k;
	size_t n = parent->nkid;

	if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
		if ((k = reallocarray(parent->kid, n == 0 ? 4 : n * 2,
		    sizeof(*k))) == NULL)
			return -1;
		parent->kid = k;
	}
	parent->kid[parent->nkid++] = kid;
	return 0;
}

/* A key must be a scalar. */
static int
check_key(const char *path, const struct cnode *key, struct sxerr *e)
{
	if (key->type != CN_SCALAR)
		return config_err(e, path, key, "a map key must be a plain "
		    "value");
	return 0;
}

static int
keycmp(const void *a, const void *b)
{
	const struct cnode *x = *(struct cnode *const *)a;
	const struct cnode *y = *(struct cnode *const *)b;
	int c = strcmp(x->str, y->str);

	if (c != 0)
		return c;
	return x->line != y->line ? (x->line < y->line ? -1 : 1) :
	    (x->col < y->col ? -1 : x->col > y->col);
}

/*
 * Each key once per map. Sorting copies of the keys keeps this
 * O(n log n): a policy with ten thousand hosts must load in milliseconds.
 */
static int
check_dups(const char *path, const struct cnode *map, struct sxerr *e)
{
	struct cnode **k;
	size_t n = map->nkid / 2, i;
	int rc = 0;

	if (n < 2)
		return 0;
	if ((k = reallocarray(NULL, n, sizeof(*k))) == NULL)
		return sxerr_errno(e, EX_OSERR, "%s", path);
	for (i = 0; i < n; i++)
		k[i] = map->kid[2 * i];
	qsort(k, n, sizeof(*k), keycmp);
	for (i = 1; i < n; i++)
		if (strcmp(k[i - 1]->str, k[i]->str) == 0) {
			rc = config_err(e, path, k[i], "duplicate key \"%s\" "
			    "(first at line %u)", k[i]->str, k[i - 1]->line);
			break;
		}
	free(k);
	return rc;
}

struct builder {
	const char	*path;
	struct cnode	*stack[CONFIG_MAXDEPTH];
	int		 depth;
	struct cnode	*root;
};

/* Attach a finished node to its parent (or make it the root). */
static int
attach(struct builder *b, struct cnode *n, struct sxerr *e)
{
	struct cnode *top;

	if (b->depth == 0) {
		if (b->root != NULL) {
			config_err(e, b->path, n, "more than one document");
			cnode_free(n);
			return -1;
		}
		b->root = n;
		return 0;
	}
	top = b->stack[b->depth - 1];
	if (top->type == CN_MAP && top->nkid % 2 == 0 &&
	    check_key(b->path, n, e) == -1) {
		cnode_free(n);
		return -1;
	}
	if (node_add(top, n) == -1) {
		cnode_free(n);
		return sxerr_errno(e, EX_OSERR, "%s", b->path);
	}
	return 0;
}

static int
on_event(struct builder *b, const yaml_event_t *ev, struct sxerr *e)
{
	struct cnode *n;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return sxerr_set(e, EX_CONFIG, "%s:%zu:%zu: aliases are not "
		    "allowed", b->path, ev->start_mark.line + 1,
		    ev->start_mark.column + 1);
	case YAML_SCALAR_EVENT:
		if ((n = node_new(CN_SCALAR, &ev->start_mark)) == NULL ||
		    (n->str = strndup((char *)ev->data.scalar.value,
		    ev->data.scalar.length)) == NULL) {
			cnode_free(n);
			return sxerr_errno(e, EX_OSERR, "%s", b->path);
		}
		if (strlen(n->str) != ev->data.scalar.length) {
			cnode_free(n);
			return sxerr_set(e, EX_CONFIG, "%s:%zu:%zu: NUL in "
			    "value", b->path, ev->start_mark.line + 1,
			    ev->start_mark.column + 1);
		}
		n->plain = ev->data.scalar.plain_implicit &&
		    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		return attach(b, n, e);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (b->depth == CONFIG_MAXDEPTH)
			return sxerr_set(e, EX_CONFIG, "%s:%zu:%zu: nested too "
			    "deep", b->path, ev->start_mark.line + 1,
			    ev->start_mark.column + 1);
		n = node_new(ev->type == YAML_SEQUENCE_START_EVENT ? CN_SEQ :
		    CN_MAP, &ev->start_mark);
		if (n == NULL)
			return sxerr_errno(e, EX_OSERR, "%s", b->path);
		b->stack[b->depth++] = n;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		n = b->stack[--b->depth];
		if (n->type == CN_MAP && check_dups(b->path, n, e) == -1) {
			cnode_free(n);
			return -1;
		}
		return attach(b, n, e);
	default:
		return 0;
	}
}

/*
 * Parse YAML text into a tree; path only names it in messages. The whole
 * text is parsed before anything is returned: an error anywhere means no
 * tree at all.
 */
int
config_parse(const char *path, const char *text, size_t len,
    struct cnode **rootp, struct sxerr *e)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct builder b;
	int rc = 0, done = 0;

	memset(&b, 0, sizeof(b));
	b.path = path;
	*rootp = NULL;
	if (!yaml_parser_initialize(&p))
		return sxerr_set(e, EX_OSERR, "%s: out of memory", path);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = sxerr_set(e, EX_CONFIG, "%s:%zu:%zu: not valid "
			    "YAML: %s%s%s", path, p.problem_mark.line + 1,
			    p.problem_mark.column + 1, p.problem ? p.problem :
			    "parse error", p.context ? " " : "",
			    p.context ? p.context : "");
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(&b, &ev, e);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	while (b.depth > 0)
		cnode_free(b.stack[--b.depth]);
	if (rc == -1) {
		cnode_free(b.root);
		return -1;
	}
	*rootp = b.root;
	return 0;
}

static int
read_file(const char *path, char **bufp, size_t *lenp, struct sxerr *e)
{
	struct stat st;
	char *buf;
	size_t len;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return sxerr_errno(e, EX_CONFIG, "%s", path);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONFIG_MAXSIZE) {
		if (!S_ISREG(st.st_mode))
			errno = EINVAL;
		else if (st.st_size > CONFIG_MAXSIZE)
			errno = EFBIG;
		sxerr_errno(e, EX_CONFIG, "%s", path);
		close(fd);
		return -1;
	}
	if ((buf = malloc(st.st_size + 1)) == NULL) {
		close(fd);
		return sxerr_errno(e, EX_OSERR, "%s", path);
	}
	rc = slurp_fd(fd, buf, st.st_size + 1, &len);
	close(fd);
	if (rc != 0) {
		free(buf);
		if (rc == 1)
			errno = EAGAIN;	/* grew while we read it */
		return sxerr_errno(e, EX_CONFIG, "%s", path);
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

int
config_parse_file(const char *path, struct cnode **rootp, struct sxerr *e)
{
	char *buf;
	size_t len;
	int rc;

	if (read_file(path, &buf, &len, e) == -1)
		return -1;
	rc = config_parse(path, buf, len, rootp, e);
	free(buf);
	return rc;
}

/* The file must be a map of known sections, or empty. */
static int
check_toplevel(const char *path, const struct cnode *root, struct sxerr *e)
{
	size_t i, j;

	if (root->type != CN_MAP)
		return config_err(e, path, root, "expected a map of "
		    "default:, hosts:, tunnels:, copy:, features:");
	for (i = 0; i < root->nkid; i += 2) {
		for (j = 0; toplevel[j] != NULL; j++)
			if (strcmp(root->kid[i]->str, toplevel[j]) == 0)
				break;
		if (toplevel[j] == NULL)
			return config_err(e, path, root->kid[i], "unknown key "
			    "\"%s\": expected default, hosts, tunnels, copy or "
			    "features",
			    root->kid[i]->str);
	}
	return 0;
}

int
config_load(const char *path, struct config **cfp, struct sxerr *e)
{
	struct config *cf;

	if ((cf = calloc(1, sizeof(*cf))) == NULL)
		return sxerr_errno(e, EX_OSERR, "config");
	if (strlcpy(cf->path, path, sizeof(cf->path)) >= sizeof(cf->path)) {
		free(cf);
		return sxerr_set(e, EX_CONFIG, "config path too long");
	}
	if (config_parse_file(path, &cf->root, e) == -1)
		goto fail;
	if (cnode_is_null(cf->root)) {
		cnode_free(cf->root);
		cf->root = NULL;
	} else if (check_toplevel(path, cf->root, e) == -1)
		goto fail;
	*cfp = cf;
	return 0;
fail:
	config_free(cf);
	return -1;
}

void
config_free(struct config *cf)
{
	if (cf == NULL)
		return;
	cnode_free(cf->root);
	free(cf);
}

/* $XDG_CONFIG_HOME/scitex-ssh/config.yaml, default ~/.config/... */
int
config_default_path(char *buf, size_t sz)
{
	return xdg_path(buf, sz, "XDG_CONFIG_HOME", ".config",
	    "scitex-ssh/config.yaml", 0);
}

/*
 * A candidate is taken when it exists, and also when we cannot tell (a
 * directory on the way we may not search): the load then says why it
 * cannot be read, and every answer is "deny", rather than a file of
 * rules passed over as if there were none.
 */
static int
maybe_there(const char *path)
{
	return access(path, F_OK) == 0 || (errno != ENOENT && errno != ENOTDIR);
}

/*
 * Where the config file is: -F, $SCITEX_SSH_CONFIG, the XDG path,
 * scitex-ssh 1.0's ~/.scitex/ssh/config.yaml, /etc. A file named by -F or
 * the environment is taken as is (it must then exist). Nothing found:
 * path is "" and searched lists where we looked.
 */
int
config_find(const char *flag, char *path, size_t pathsz, char *searched,
    size_t searchedsz, struct sxerr *e)
{
	char cand[3][4096];
	const char *env = getenv("SCITEX_SSH_CONFIG"), *h, *pick = NULL;
	size_t i, n = 0;

	if (searchedsz > 0)
		searched[0] = '\0';
	if (flag != NULL)
		pick = flag;
	else if (env != NULL && env[0] != '\0')
		pick = env;
	if (pick != NULL) {
		if (strlcpy(path, pick, pathsz) >= pathsz)
			return sxerr_set(e, EX_CONFIG, "config path too long");
		return 0;
	}
	if (config_default_path(cand[n], sizeof(cand[n])) == 0)
		n++;
	if ((h = xdg_home(0)) != NULL &&
	    (size_t)snprintf(cand[n], sizeof(cand[n]),
	    "%s/.scitex/ssh/config.yaml", h) < sizeof(cand[n]))
		n++;
	strlcpy(cand[n++], "/etc/scitex-ssh/config.yaml", sizeof(cand[0]));
	for (i = 0; i < n; i++)
		if (maybe_there(cand[i])) {
			strlcpy(path, cand[i], pathsz);
			return 0;
		}
	path[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strlcat(searched, ", ", searchedsz);
		strlcat(searched, cand[i], searchedsz);
	}
	return 0;
}

/*
 * Find and load the config file. Nothing found is not an error: the
 * config comes back with no root and the places searched, and every policy
 * question is then answered "deny".
 */
int
config_open(const char *flag, struct config **cfp, struct sxerr *e)
{
	char path[4096], searched[2048];
	struct config *cf;

	if (config_find(flag, path, sizeof(path), searched, sizeof(searched),
	    e) == -1)
		return -1;
	if (path[0] != '\0')
		return config_load(path, cfp, e);
	if ((cf = calloc(1, sizeof(*cf))) == NULL)
		return sxerr_errno(e, EX_OSERR, "config");
	strlcpy(cf->searched, searched, sizeof(cf->searched));
	*cfp = cf;
	return 0;
}
