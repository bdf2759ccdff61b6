/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sshopt.h"
#include "text.h"
#include "tunnel.h"

void
tunnel_init(struct tunnel *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	if (name != NULL)
		strlcpy(t->name, name, sizeof(t->name));
	t->alive_interval = TUN_ALIVE_INTERVAL;
	t->alive_count = TUN_ALIVE_COUNT;
	t->retry_max = TUN_RETRY_MAX;
}

/*
 * Printable ASCII without the characters that would need quoting in YAML
 * double-quoted strings, ssh_config or authorized_keys: such values are
 * refused, never escaped.
 */
static int
plain_value(const char *s)
{
	return text_word(s) && strpbrk(s, "\"\\'`") == NULL;
}

/* A host of a forward; "*" and the unspecified addresses only as a bind
 * address. */
static int
fwd_host(const char *s, size_t len, int bind, char *out, size_t outsz,
    struct sxerr *e)
{
	char buf[HOST_MAX + 3];

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
		if (memchr(s, ':', len) == NULL)
			return sxerr_set(e, EX_DATAERR,
			    "brackets only around an IPv6 address");
	}
	if (len == 0 || len >= sizeof(buf))
		return sxerr_set(e, EX_DATAERR, "empty or overlong host");
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (bind && strcmp(buf, "*") == 0) {
		strlcpy(out, buf, outsz);
		return 0;
	}
	if (bind)
		return host_canon_bind(buf, out, outsz, e);
	return host_canon(buf, out, outsz, e);
}

static int
fwd_port(const char *s, size_t len, int *port, struct sxerr *e)
{
	char buf[8];

	if (len == 0 || len >= sizeof(buf))
		return sxerr_set(e, EX_DATAERR, "%.*s: bad port", (int)len, s);
	memcpy(buf, s, len);
	buf[len] = '\0';
	return host_parse_port(buf, port, e);
}

/* "R|L [bind:]port:host:hostport", IPv6 addresses in brackets. */
int
tunnel_parse_forward(const char *s, struct forward *f, struct sxerr *e)
{
	const char *tok[5], *p;
	size_t len[5], n = 0;
	int depth = 0;
	struct sxerr sub;

	memset(f, 0, sizeof(*f));
	if (!text_printable(s) || strlen(s) > 600)
		return sxerr_set(e, EX_DATAERR, "forward: control characters "
		    "or overlong");
	if ((s[0] != 'R' && s[0] != 'L') || s[1] != ' ')
		return sxerr_set(e, EX_DATAERR, "%s: bad forward (want "
		    "\"R|L [bind:]port:host:hostport\")", s);
	f->dir = s[0];
	for (p = s + 1; *p == ' '; p++)
		;
	tok[0] = p;
	for (; ; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']')
			depth--;
		if ((*p == ':' && depth == 0) || *p == '\0') {
			if (n >= 4)
				goto bad;
			len[n] = (size_t)(p - tok[n]);
			n++;
			if (*p == '\0')
				break;
			tok[n] = p + 1;
		}
		if (depth < 0 || depth > 1)
			goto bad;
	}
	if (n < 3 || depth != 0)
		goto bad;
	if (n == 4 && fwd_host(tok[0], len[0], 1, f->bind, sizeof(f->bind),
	    &sub) == -1)
		goto sub;
	if (fwd_port(tok[n - 3], len[n - 3], &f->port, &sub) == -1 ||
	    fwd_host(tok[n - 2], len[n - 2], 0, f->host, sizeof(f->host),
	    &sub) == -1 ||
	    fwd_port(tok[n - 1], len[n - 1], &f->hostport, &sub) == -1)
		goto sub;
	return 0;
 sub:
	return sxerr_set(e, EX_DATAERR, "%s: bad forward: %s", s, sub.msg);
 bad:
	return sxerr_set(e, EX_DATAERR, "%s: bad forward (want "
	    "\"R|L [bind:]port:host:hostport\")", s);
}

static const char *
br(const char *h, int open)
{
	if (strchr(h, ':') == NULL)
		return "";
	return open ? "[" : "]";
}

/* The forward as written in a definition ("R 2222:localhost:22") or, with
 * argv set, as ssh's -R/-L argument ("2222:localhost:22"). */
int
tunnel_fmt_forward(const struct forward *f, int argv, char *buf, size_t sz)
{
	char bind[HOST_MAX + 4] = "";
	int n;

	if (f->bind[0] != '\0')
		snprintf(bind, sizeof(bind), "%s%s%s:", br(f->bind, 1),
		    f->bind, br(f->bind, 0));
	n = snprintf(buf, sz, "%s%s%s%d:%s%s%s:%d", argv ? "" : f->dir == 'R' ?
	    "R" : "L", argv ? "" : " ", bind, f->port, br(f->host, 1),
	    f->host, br(f->host, 0), f->hostport);
	return n < 0 || (size_t)n >= sz ? -1 : 0;
}

/* Where on the bastion a remote forward listens, as a host to connect to. */
static const char *
fwd_remote_host(const struct forward *f)
{
	if (f->bind[0] == '\0' || strcmp(f->bind, "*") == 0 ||
	    strcmp(f->bind, "0.0.0.0") == 0 || strcmp(f->bind, "::") == 0)
		return "localhost";
	return f->bind;
}

/* "Keyword=value" with a keyword and a value sshopt.c allows. */
int
tunnel_valid_option(const char *s, struct sxerr *e)
{
	char vis[48];

	if (s != NULL && strlen(s) >= TUN_OPT_LEN) {
		text_vis(s, vis, sizeof(vis));
		return sxerr_set(e, EX_DATAERR, "%s: ssh option longer than "
		    "%d bytes", vis, TUN_OPT_LEN - 1);
	}
	return sshopt_check(s, e);
}

/* A key path as written: absolute or under ~/, of plain characters. */
int
tunnel_valid_key(const char *s, struct sxerr *e)
{
	struct sxerr sub;

	if (sshopt_path(s, &sub) == -1)
		return sxerr_set(e, EX_DATAERR, "bad key path: %s", sub.msg);
	return 0;
}

/* -1 with "more than max what" once a list of n holds max already. */
static int
full(size_t n, size_t max, const char *what, struct sxerr *e)
{
	if (n < max)
		return 0;
	return sxerr_set(e, EX_DATAERR, "more than %zu %s", max, what);
}

static int
add_bastion(struct tunnel *t, const char *s, struct sxerr *e)
{
	if (full(t->nbastion, TUN_BASTION_MAX, "bastions", e) == -1)
		return -1;
	if (!plain_value(s))
		return sxerr_set(e, EX_DATAERR, "%.80s: bad bastion", s);
	if (host_parse_bastion(s, &t->bastion[t->nbastion], e) == -1)
		return -1;
	t->nbastion++;
	return 0;
}

static int
int_range(const char *s, int lo, int hi, int *v)
{
	char *end;
	long l;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	l = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || l < lo || l > hi)
		return -1;
	*v = (int)l;
	return 0;
}

static const char *
scalar(const struct cnode *n)
{
	return n != NULL && n->type == CN_SCALAR && n->str != NULL ?
	    n->str : NULL;
}

/* Apply fn to a scalar or to each scalar of a sequence. */
static int
each_scalar(const char *file, const struct cnode *v, const char *key,
    int (*fn)(struct tunnel *, const char *, struct sxerr *),
    struct tunnel *t, struct sxerr *e)
{
	struct sxerr sub;
	size_t i;

	if (scalar(v) != NULL) {
		if (fn(t, v->str, &sub) == -1)
			return config_err(e, file, v, "%s", sub.msg);
		return 0;
	}
	if (v == NULL || v->type != CN_SEQ || v->nkid == 0)
		return config_err(e, file, v, "%s: want a value or a list",
		    key);
	for (i = 0; i < v->nkid; i++) {
		if (scalar(v->kid[i]) == NULL)
			return config_err(e, file, v->kid[i], "%s: want a "
			    "value", key);
		if (fn(t, v->kid[i]->str, &sub) == -1)
			return config_err(e, file, v->kid[i], "%s", sub.msg);
	}
	return 0;
}

static int
add_forward(struct tunnel *t, const char *s, struct sxerr *e)
{
	if (full(t->nfwd, TUN_FWD_MAX, "forwards", e) == -1 ||
	    tunnel_parse_forward(s, &t->fwd[t->nfwd], e) == -1)
		return -1;
	t->nfwd++;
	return 0;
}

/* One more ssh option, validated, at the end of the packed ones. */
int
tunnel_add_option(struct tunnel *t, const char *s, struct sxerr *e)
{
	size_t n;

	if (full(t->nopt, TUN_OPT_MAX, "ssh options", e) == -1 ||
	    tunnel_valid_option(s, e) == -1)
		return -1;
	if ((n = strlen(s) + 1) > sizeof(t->optbuf) - t->optused)
		return sxerr_set(e, EX_DATAERR, "ssh options longer than %zu "
		    "bytes in all", sizeof(t->optbuf));
	memcpy(t->optbuf + t->optused, s, n);
	t->optat[t->nopt++] = (unsigned short)t->optused;
	t->optused += n;
	return 0;
}

const char *
tunnel_option(const struct tunnel *t, size_t i)
{
	return t->optbuf + t->optat[i];
}

static int
set_key(struct tunnel *t, const char *s, struct sxerr *e)
{
	if (tunnel_valid_key(s, e) == -1)
		return -1;
	strlcpy(t->key, s, sizeof(t->key));
	return 0;
}

/* The keys whose value is one item or a list of them. */
static int
(*list_key(const char *key))(struct tunnel *, const char *, struct sxerr *)
{
	if (strcmp(key, "bastion") == 0)
		return add_bastion;
	if (strcmp(key, "forwards") == 0)
		return add_forward;
	if (strcmp(key, "ssh_options") == 0)
		return tunnel_add_option;
	return NULL;
}

/*
 * t's discovery forward: file names the target, local is "[bind:]port"
 * (NULL: 127.0.0.1, and the port of remote_port, else the file's), a
 * remote_port of 0 means the file's port_field.
 */
int
tunnel_set_discovery(struct tunnel *t, const char *file, const char *local,
    int remote_port, struct sxerr *e)
{
	struct forward *f;
	const char *colon;
	struct sxerr sub;

	if (t->disc.file[0] != '\0' || t->nfwd >= TUN_FWD_MAX)
		return sxerr_set(e, EX_DATAERR, "one discovery forward, and "
		    "at most %d forwards", TUN_FWD_MAX);
	if (sshopt_path(file, &sub) == -1)
		return sxerr_set(e, EX_DATAERR, "discovery file: %s", sub.msg);
	f = &t->fwd[t->nfwd];
	memset(f, 0, sizeof(*f));
	f->dir = 'L';
	strlcpy(f->bind, "127.0.0.1", sizeof(f->bind));
	f->port = remote_port;
	if (local != NULL) {
		colon = strrchr(local, ':');
		if (colon != NULL && fwd_host(local, (size_t)(colon - local),
		    1, f->bind, sizeof(f->bind), &sub) == -1)
			return sxerr_set(e, EX_DATAERR, "local: %s", sub.msg);
		colon = colon != NULL ? colon + 1 : local;
		if (fwd_port(colon, strlen(colon), &f->port, &sub) == -1)
			return sxerr_set(e, EX_DATAERR, "local: %s", sub.msg);
	}
	strlcpy(t->disc.file, file, sizeof(t->disc.file));
	strlcpy(t->disc.host_field, "node", sizeof(t->disc.host_field));
	strlcpy(t->disc.port_field, "litellm_port",
	    sizeof(t->disc.port_field));
	t->disc.remote_port = remote_port;
	t->disc.port_follows = f->port == 0;
	t->disc.fwd = t->nfwd++;
	return 0;
}

/* A JSON field name: what a scheduler's script writes, nothing to quote. */
static int
field_name(const char *s, char *out, size_t sz)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-");

	if (n == 0 || s[n] != '\0' || n >= sz)
		return -1;
	strlcpy(out, s, sz);
	return 0;
}

/* The discovery: block, a map of file, local, host_field, port_field and
 * remote_port. */
static int
discovery_node(const char *file, const struct cnode *m, struct tunnel *t,
    struct sxerr *e)
{
	const struct cnode *k, *v, *f = NULL, *l = NULL;
	char host[TUN_FIELD_LEN] = "", port[TUN_FIELD_LEN] = "";
	struct sxerr sub;
	int rport = 0;
	size_t i;

	if (m == NULL || m->type != CN_MAP)
		return config_err(e, file, m, "discovery: want a map of file, "
		    "local, host_field, port_field, remote_port");
	for (i = 0; i + 1 < m->nkid; i += 2) {
		k = m->kid[i];
		v = m->kid[i + 1];
		if (scalar(k) == NULL || scalar(v) == NULL)
			return config_err(e, file, scalar(k) ? v : k,
			    "discovery: want key: value");
		if (strcmp(k->str, "file") == 0)
			f = v;
		else if (strcmp(k->str, "local") == 0)
			l = v;
		else if (strcmp(k->str, "remote_port") == 0) {
			if (int_range(v->str, 1, 65535, &rport) == -1)
				return config_err(e, file, v, "remote_port: "
				    "want a port from 1 to 65535");
		} else if (strcmp(k->str, "host_field") == 0 ||
		    strcmp(k->str, "port_field") == 0) {
			if (field_name(v->str, k->str[0] == 'h' ? host : port,
			    TUN_FIELD_LEN) == -1)
				return config_err(e, file, v, "%s: want a "
				    "field name of A-Z a-z 0-9 _ . -", k->str);
		} else
			return config_err(e, file, k, "%.64s: unknown key in "
			    "discovery", k->str);
	}
	if (f == NULL)
		return config_err(e, file, m, "discovery: no file");
	if (tunnel_set_discovery(t, f->str, l != NULL ? l->str : NULL, rport,
	    &sub) == -1)
		return config_err(e, file, l != NULL && strncmp(sub.msg,
		    "local", 5) == 0 ? l : f, "%s", sub.msg);
	if (host[0] != '\0')
		strlcpy(t->disc.host_field, host, sizeof(t->disc.host_field));
	if (port[0] != '\0')
		strlcpy(t->disc.port_field, port, sizeof(t->disc.port_field));
	return 0;
}

/*
 * A definition from its YAML map (an entry of tunnels: or a tunnels.d
 * file); every error names file:line:column.
 */
int
tunnel_from_node(const char *name, const char *file, const struct cnode *m,
    struct tunnel *t, struct sxerr *e)
{
	int (*add)(struct tunnel *, const char *, struct sxerr *);
	const struct cnode *k, *v;
	struct sxerr sub;
	size_t i;

	tunnel_init(t, name);
	if (tunnel_valid_name(name, &sub) == -1)
		return config_err(e, file, m, "%s", sub.msg);
	if (m == NULL || m->type != CN_MAP)
		return config_err(e, file, m, "tunnel %s: want a map of "
		    "bastion, key, forwards, ...", name);
	for (i = 0; i + 1 < m->nkid; i += 2) {
		k = m->kid[i];
		v = m->kid[i + 1];
		if (scalar(k) == NULL)
			return config_err(e, file, k, "want a key");
		if ((add = list_key(k->str)) != NULL) {
			if (each_scalar(file, v, k->str, add, t, e) == -1)
				return -1;
		} else if (strcmp(k->str, "key") == 0) {
			if (scalar(v) == NULL)
				return config_err(e, file, v, "key: want a "
				    "path");
			if (set_key(t, v->str, &sub) == -1)
				return config_err(e, file, v, "%s", sub.msg);
		} else if (strcmp(k->str, "discovery") == 0) {
			if (discovery_node(file, v, t, e) == -1)
				return -1;
		} else if (strcmp(k->str, "retry_max") == 0) {
			if (int_range(scalar(v), 1, 3600, &t->retry_max) == -1)
				return config_err(e, file, v, "retry_max: want "
				    "seconds from 1 to 3600");
		} else if (strcmp(k->str, "server_alive") == 0) {
			if (v == NULL || v->type != CN_SEQ || v->nkid != 2 ||
			    int_range(scalar(v->kid[0]), 1, 3600,
			    &t->alive_interval) == -1 ||
			    int_range(scalar(v->kid[1]), 1, 100,
			    &t->alive_count) == -1)
				return config_err(e, file, v, "server_alive: "
				    "want [interval 1-3600, count 1-100]");
		} else
			return config_err(e, file, k, "%.64s: unknown key in "
			    "tunnel %s", k->str, name);
	}
	if (tunnel_check(t, &sub) == -1)
		return config_err(e, file, m, "tunnel %s: %s", name, sub.msg);
	return 0;
}

/* One tunnels.d file, its name the tunnel's name. */
int
tunnel_load_file(const char *path, const char *name, struct tunnel *t,
    struct sxerr *e)
{
	struct cnode *root;
	int rc;

	if (config_parse_file(path, &root, e) == -1)
		return -1;
	rc = tunnel_from_node(name, path, root, t, e);
	cnode_free(root);
	return rc;
}

/* What every definition needs, however it was made. */
int
tunnel_check(const struct tunnel *t, struct sxerr *e)
{
	if (t->nbastion == 0)
		return sxerr_set(e, EX_CONFIG, "no bastion");
	if (t->nfwd == 0)
		return sxerr_set(e, EX_CONFIG, "no forwards");
	return 0;
}

/* A path of a definition (key, discovery file) with ~/ expanded from
 * HOME. */
int
tunnel_home_path(const char *path, char *buf, size_t sz, struct sxerr *e)
{
	const char *home;
	int n;

	if (path[0] != '~') {
		if (strlcpy(buf, path, sz) >= sz)
			return sxerr_set(e, EX_DATAERR, "%.80s: path too long",
			    path);
		return 0;
	}
	if ((home = getenv("HOME")) == NULL || *home != '/' ||
	    !plain_value(home))
		return sxerr_set(e, EX_CONFIG, "%.80s: HOME unusable for ~",
		    path);
	n = snprintf(buf, sz, "%s%s", home, path + 1);
	if (n < 0 || (size_t)n >= sz)
		return sxerr_set(e, EX_DATAERR, "%.80s: path too long", path);
	return 0;
}

/* The key's path with ~/ expanded; "" when none is set. */
int
tunnel_key_path(const struct tunnel *t, char *buf, size_t sz,
    struct sxerr *e)
{
	return tunnel_home_path(t->key, buf, sz, e);
}

/* As ssh: a private key others may read is refused. */
int
tunnel_check_key(const struct tunnel *t, struct sxerr *e)
{
	char path[TUN_PATH_MAX];
	struct stat st;

	if (t->key[0] == '\0')
		return 0;
	if (tunnel_key_path(t, path, sizeof(path), e) == -1)
		return -1;
	if (stat(path, &st) == -1)
		return sxerr_errno(e, EX_DATAERR, "key %s", path);
	if (!S_ISREG(st.st_mode))
		return sxerr_set(e, EX_DATAERR, "key %s: not a file", path);
	if ((st.st_mode & 077) != 0)
		return sxerr_set(e, EX_NOPERM, "key %s: mode %03o lets others "
		    "read it (chmod 600 it)", path, st.st_mode & 0777);
	return 0;
}

static int
cat(char *buf, size_t sz, size_t *len, struct sxerr *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, sz - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sz - *len)
		return sxerr_set(e, EX_OSERR, "output too long");
	*len += (size_t)n;
	return 0;
}

/* The discovery: block of the tunnels.d file. */
static int
disc_yaml(const struct tunnel *t, char *buf, size_t sz, size_t *len,
    struct sxerr *e)
{
	const struct forward *f = &t->fwd[t->disc.fwd];

	if (cat(buf, sz, len, e, "discovery:\n  file: \"%s\"\n"
	    "  host_field: \"%s\"\n  port_field: \"%s\"\n", t->disc.file,
	    t->disc.host_field, t->disc.port_field) == -1)
		return -1;
	if (t->disc.remote_port != 0 && cat(buf, sz, len, e,
	    "  remote_port: %d\n", t->disc.remote_port) == -1)
		return -1;
	if (!t->disc.port_follows && cat(buf, sz, len, e,
	    "  local: \"%s%s%s:%d\"\n",
	    br(f->bind, 1), f->bind, br(f->bind, 0), f->port) == -1)
		return -1;
	return 0;
}

/* The tunnels.d file: every value validated, so double quotes suffice. */
int
tunnel_yaml(const struct tunnel *t, char *buf, size_t sz, struct sxerr *e)
{
	char s[TUN_OPT_LEN];
	size_t len = 0, i;

	if (tunnel_check(t, e) == -1)
		return -1;
	if (cat(buf, sz, &len, e, "# tunnel %s, written by ssh-tunnel-up\n"
	    "bastion:\n", t->name) == -1)
		return -1;
	for (i = 0; i < t->nbastion; i++) {
		if (host_fmt_bastion(&t->bastion[i], s, sizeof(s)) < 0 ||
		    !plain_value(s))
			return sxerr_set(e, EX_OSERR, "bastion too long");
		if (cat(buf, sz, &len, e, "  - \"%s\"\n", s) == -1)
			return -1;
	}
	if (t->key[0] != '\0' &&
	    cat(buf, sz, &len, e, "key: \"%s\"\n", t->key) == -1)
		return -1;
	/* The discovery forward is written as its block. */
	if (t->nfwd > (t->disc.file[0] != '\0') &&
	    cat(buf, sz, &len, e, "forwards:\n") == -1)
		return -1;
	for (i = 0; i < t->nfwd; i++) {
		if (t->disc.file[0] != '\0' && i == t->disc.fwd)
			continue;
		if (tunnel_fmt_forward(&t->fwd[i], 0, s, sizeof(s)) == -1 ||
		    cat(buf, sz, &len, e, "  - \"%s\"\n", s) == -1)
			return -1;
	}
	if (t->disc.file[0] != '\0' && disc_yaml(t, buf, sz, &len, e) == -1)
		return -1;
	if (cat(buf, sz, &len, e, "server_alive: [%d, %d]\nretry_max: %d\n",
	    t->alive_interval, t->alive_count, t->retry_max) == -1)
		return -1;
	if (t->nopt > 0 && cat(buf, sz, &len, e, "ssh_options:\n") == -1)
		return -1;
	for (i = 0; i < t->nopt; i++)
		if (cat(buf, sz, &len, e, "  - \"%s\"\n",
		    tunnel_option(t, i)) == -1)
			return -1;
	return 0;
}

static int
arg(struct sshargv *a, struct sxerr *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (a->argc + 1 >= TUN_ARGV_MAX)
		return sxerr_set(e, EX_OSERR, "ssh argv too long");
	va_start(ap, fmt);
	n = vsnprintf(a->buf + a->used, sizeof(a->buf) - a->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(a->buf) - a->used)
		return sxerr_set(e, EX_OSERR, "ssh argv too long");
	a->argv[a->argc++] = a->buf + a->used;
	a->argv[a->argc] = NULL;
	a->used += (size_t)n + 1;
	return 0;
}

static int
has_option(const struct tunnel *t, const char *kw)
{
	size_t i, n = strlen(kw);

	for (i = 0; i < t->nopt; i++)
		if (strncasecmp(tunnel_option(t, i), kw, n) == 0 &&
		    tunnel_option(t, i)[n] == '=')
			return 1;
	return 0;
}

/*
 * ssh_config takes the first value it obtains, and -o options before any
 * file. So: what the supervisor relies on first, then the user's
 * ssh_options, then our defaults, which the user's may override.
 */
static int
common_args(const struct tunnel *t, const char *ssh, int wait,
    struct sshargv *a, const char *const *forced, struct sxerr *e)
{
	char key[TUN_PATH_MAX];
	size_t i;

	a->argc = a->used = 0;
	if (arg(a, e, "%s", ssh) == -1)
		return -1;
	for (i = 0; forced[i] != NULL; i++)
		if (arg(a, e, "%s", forced[i]) == -1)
			return -1;
	for (i = 0; i < t->nopt; i++)
		if (arg(a, e, "-o") == -1 ||
		    arg(a, e, "%s", tunnel_option(t, i)) == -1)
			return -1;
	if (arg(a, e, "-o") == -1 || arg(a, e, "ConnectTimeout=%d",
	    wait > 0 ? wait : TUN_CONNECT_TIMEOUT) == -1)
		return -1;
	if (!has_option(t, "StrictHostKeyChecking") && (arg(a, e, "-o") == -1 ||
	    arg(a, e, "StrictHostKeyChecking=accept-new") == -1))
		return -1;
	if (t->key[0] != '\0') {
		if (tunnel_key_path(t, key, sizeof(key), e) == -1 ||
		    arg(a, e, "-i") == -1 || arg(a, e, "%s", key) == -1 ||
		    arg(a, e, "-o") == -1 ||
		    arg(a, e, "IdentitiesOnly=yes") == -1)
			return -1;
	}
	return 0;
}

static int
dest_args(const struct tunnel *t, size_t bi, struct sshargv *a,
    struct sxerr *e)
{
	const struct bastion *b;

	if (bi >= t->nbastion)
		return sxerr_set(e, EX_OSERR, "no bastion %zu", bi);
	b = &t->bastion[bi];
	if (b->user[0] != '\0' && (arg(a, e, "-l") == -1 ||
	    arg(a, e, "%s", b->user) == -1))
		return -1;
	if (b->port != 0 && (arg(a, e, "-p") == -1 ||
	    arg(a, e, "%d", b->port) == -1))
		return -1;
	/* "--": the host can never be taken for an option. */
	if (arg(a, e, "--") == -1 || arg(a, e, "%s", b->host) == -1)
		return -1;
	return 0;
}

/* The supervisor's ssh through bastion bi; "-v" is how it sees forwards
 * confirmed (see supervise.c). No LocalCommand, which would inherit the
 * stdin whose lock proves ssh running. wait: ConnectTimeout in seconds,
 * 0 for TUN_CONNECT_TIMEOUT (a user's ssh_options win over both). */
int
tunnel_argv(const struct tunnel *t, size_t bi, const char *ssh, int wait,
    struct sshargv *a, struct sxerr *e)
{
	static const char *const forced[] = {
		"-N", "-T", "-v",
		"-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes",
		"-o", "ControlMaster=no", "-o", "ControlPath=none",
		"-o", "ForkAfterAuthentication=no",
		"-o", "PermitLocalCommand=no", NULL
	};
	char spec[HOST_MAX * 2 + 32];
	size_t i;

	if (common_args(t, ssh, wait, a, forced, e) == -1)
		return -1;
	if (arg(a, e, "-o") == -1 || arg(a, e, "ServerAliveInterval=%d",
	    t->alive_interval) == -1 || arg(a, e, "-o") == -1 ||
	    arg(a, e, "ServerAliveCountMax=%d", t->alive_count) == -1)
		return -1;
	for (i = 0; i < t->nfwd; i++) {
		if (t->fwd[i].host[0] == '\0')
			return sxerr_set(e, EX_SOFTWARE, "discovery: no target "
			    "read yet");
		if (tunnel_fmt_forward(&t->fwd[i], 1, spec, sizeof(spec)) == -1)
			return sxerr_set(e, EX_OSERR, "forward too long");
		if (arg(a, e, "-%c", t->fwd[i].dir) == -1 ||
		    arg(a, e, "%s", spec) == -1)
			return -1;
	}
	return dest_args(t, bi, a, e);
}

/*
 * ssh -W to a remote forward's port on the bastion, with the tunnel's key:
 * the probe reads the banner that comes back; against a stale session
 * holding the port, the connection makes that session fail and let go.
 */
int
tunnel_probe_argv(const struct tunnel *t, size_t bi, const struct forward *f,
    const char *ssh, struct sshargv *a, struct sxerr *e)
{
	static const char *const forced[] = {
		"-T", "-o", "BatchMode=yes", "-o", "ControlMaster=no",
		"-o", "ControlPath=none", "-o", "ClearAllForwardings=yes",
		"-o", "ForkAfterAuthentication=no", NULL
	};
	const char *h = fwd_remote_host(f);

	if (common_args(t, ssh, 0, a, forced, e) == -1)
		return -1;
	if (arg(a, e, "-W") == -1 || arg(a, e, "%s%s%s:%d", br(h, 1), h,
	    br(h, 0), f->port) == -1)
		return -1;
	return dest_args(t, bi, a, e);
}

const struct forward *
tunnel_first_remote(const struct tunnel *t)
{
	size_t i;

	for (i = 0; i < t->nfwd; i++)
		if (t->fwd[i].dir == 'R')
			return &t->fwd[i];
	return NULL;
}

size_t
tunnel_nremote(const struct tunnel *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->nfwd; i++)
		n += t->fwd[i].dir == 'R';
	return n;
}

/* The public key KEY.pub as "type base64", each part checked. */
static int
read_pub(const struct tunnel *t, char *out, size_t sz, struct sxerr *e)
{
	char path[TUN_PATH_MAX + 8], buf[16384], *sp, *end;
	ssize_t n;
	size_t i;
	int fd;

	if (t->key[0] == '\0')
		return sxerr_set(e, EX_USAGE, "tunnel %s has no key (give -s)",
		    t->name);
	if (tunnel_key_path(t, path, sizeof(path) - 4, e) == -1)
		return -1;
	strlcat(path, ".pub", sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return sxerr_errno(e, EX_DATAERR, "%s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return sxerr_set(e, EX_DATAERR, "%s: empty or unreadable",
		    path);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if ((sp = strchr(buf, ' ')) == NULL)
		goto bad;
	for (i = 0; buf + i < sp; i++)
		if (!isalnum((unsigned char)buf[i]) &&
		    strchr("@.-", buf[i]) == NULL)
			goto bad;
	if ((end = strchr(sp + 1, ' ')) != NULL)
		*end = '\0';
	if (sp[1] == '\0' || strspn(sp + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/=") != strlen(sp + 1))
		goto bad;
	if (strlcpy(out, buf, sz) >= sz)
		goto bad;
	return 0;
 bad:
	return sxerr_set(e, EX_DATAERR, "%s: not an OpenSSH public key", path);
}

/*
 * The authorized_keys line for the tunnel account on the bastion: the key
 * may listen on exactly its remote ports and connect to exactly those (for
 * the probe and stale-port recovery); no shell, no command, no pty.
 */
int
tunnel_authkeys(const struct tunnel *t, char *buf, size_t sz,
    struct sxerr *e)
{
	char pub[16384];
	size_t len = 0, i;
	const struct forward *f;
	const char *h;
	int k;

	if (read_pub(t, pub, sizeof(pub), e) == -1)
		return -1;
	if (tunnel_nremote(t) == 0)
		return sxerr_set(e, EX_USAGE, "tunnel %s has no R forward",
		    t->name);
	if (cat(buf, sz, &len, e, "restrict,port-forwarding") == -1)
		return -1;
	/* Every permitlisten, then every permitopen, as documented. */
	for (k = 0; k < 2; k++)
		for (i = 0; i < t->nfwd; i++) {
			f = &t->fwd[i];
			if (f->dir != 'R')
				continue;
			h = k == 1 ? fwd_remote_host(f) : f->bind[0] ? f->bind :
			    "localhost";
			if (cat(buf, sz, &len, e, ",%s=\"%s%s%s:%d\"",
			    k == 1 ? "permitopen" : "permitlisten", br(h, 1),
			    h, br(h, 0), f->port) == -1)
				return -1;
		}
	return cat(buf, sz, &len, e, ",command=\"/bin/false\" %s %s\n", pub,
	    t->name);
}

/* Does a remote forward listen on more than the bastion's loopback? */
static int
fwd_public(const struct forward *f)
{
	return f->dir == 'R' && f->bind[0] != '\0' &&
	    strcmp(f->bind, "localhost") != 0 &&
	    strcmp(f->bind, "127.0.0.1") != 0 && strcmp(f->bind, "::1") != 0;
}

/*
 * The bastion's sshd_config block for the tunnel account: what the key
 * line cannot say. permitlisten covers TCP only, and port-forwarding also
 * lets a key listen on and connect to unix sockets (streamlocal), which no
 * key option refuses. TCP forwarding stays on both ways: the tunnel is a
 * remote forward, --probe and stale-port recovery a local one (ssh -W),
 * each narrowed to the tunnel's ports by the key line.
 */
/* The account ssh logs in as on bastion b: its user, else ours. */
static const char *
account(const struct bastion *b)
{
	struct passwd *pw;

	if (b->user[0] != '\0')
		return b->user;
	if ((pw = getpwuid(getuid())) == NULL ||
	    !host_valid_user(pw->pw_name, strlen(pw->pw_name)))
		return NULL;
	return pw->pw_name;
}

int
tunnel_sshd_match(const struct tunnel *t, char *buf, size_t sz,
    struct sxerr *e)
{
	char users[TUN_BASTION_MAX * 34] = "", seen[TUN_BASTION_MAX * 34 + 2];
	char needle[36];
	const char *u;
	size_t len = 0, i;
	int public = 0;

	for (i = 0; i < t->nbastion; i++) {
		if ((u = account(&t->bastion[i])) == NULL)
			return sxerr_set(e, EX_DATAERR, "bastion %s: give the "
			    "account (user@host)", t->bastion[i].host);
		/* each account once: ",a,b," holds ",u," or not */
		snprintf(seen, sizeof(seen), ",%s,", users);
		snprintf(needle, sizeof(needle), ",%s,", u);
		if (strstr(seen, needle) != NULL)
			continue;
		if (users[0] != '\0')
			strlcat(users, ",", sizeof(users));
		strlcat(users, u, sizeof(users));
	}
	for (i = 0; i < t->nfwd; i++)
		public |= fwd_public(&t->fwd[i]);
	return cat(buf, sz, &len, e, "Match User %s\n"
	    "\tAllowStreamLocalForwarding no\n"
	    "\tAllowTcpForwarding yes\n"
	    "\tGatewayPorts %s\n"
	    "\tAllowAgentForwarding no\n"
	    "\tX11Forwarding no\n"
	    "\tPermitTunnel no\n"
	    "\tPermitTTY no\n"
	    "\tPermitUserRC no\n"
	    "\tForceCommand /bin/false\n", users,
	    public ? "clientspecified" : "no");
}

/* The collaborator's ssh_config block: ssh NAME reaches the first R
 * forward through bastion bi. */
int
tunnel_client_block(const struct tunnel *t, size_t bi, char *buf, size_t sz,
    struct sxerr *e)
{
	const struct forward *f;
	char b[HOST_MAX + 64];
	size_t len = 0;

	if ((f = tunnel_first_remote(t)) == NULL)
		return sxerr_set(e, EX_USAGE, "tunnel %s has no R forward",
		    t->name);
	if (bi >= t->nbastion ||
	    host_fmt_bastion(&t->bastion[bi], b, sizeof(b)) < 0)
		return sxerr_set(e, EX_OSERR, "bastion too long");
	return cat(buf, sz, &len, e, "Host %s\n    HostName %s\n    Port %d\n"
	    "    ProxyJump %s\n    HostKeyAlias %s\n", t->name,
	    fwd_remote_host(f), f->port, b, t->name);
}

/* Tunnel names: [A-Za-z0-9][A-Za-z0-9._-]{0,63}. */
int
tunnel_valid_name(const char *s, struct sxerr *e)
{
	char v[80];
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = s[i];
		if (i >= NAME_MAX_LEN || !(isalnum(c) ||
		    (i > 0 && (c == '.' || c == '_' || c == '-'))))
			break;
	}
	if (i > 0 && s[i] == '\0')
		return 0;
	text_vis(s, v, sizeof(v));
	return sxerr_set(e, EX_DATAERR, "%s: not a valid tunnel name: "
	    "want 1 to 64 of A-Z a-z 0-9 . _ -, starting with a letter or digit",
	    v);
}
