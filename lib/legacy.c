/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "legacy.h"
#include "slurp.h"
#include "text.h"
#include "unit.h"

#define LEGACY_MAX	16384	/* the tool wrote about 1 KiB */
#define MAXWORDS	64

/* PORT of "autossh-tunnel-PORT.service", or -1 for any other name. */
int
legacy_port(const char *name)
{
	const char *p;
	long v = 0;
	size_t plen = strlen(LEGACY_PREFIX);

	if (strncmp(name, LEGACY_PREFIX, plen) != 0)
		return -1;
	p = name + plen;
	if (*p < '1' || *p > '9')
		return -1;
	for (; isdigit((unsigned char)*p); p++)
		if ((v = v * 10 + (*p - '0')) > 65535)
			return -1;
	if (strcmp(p, ".service") != 0)
		return -1;
	return (int)v;
}

/* PORT of the name ssh-tunnel-ls shows for a 1.0 unit, or -1. */
int
legacy_name_port(const char *name)
{
	char buf[64];

	if (snprintf(buf, sizeof(buf), "%s.service", name) >= (int)sizeof(buf))
		return -1;
	return legacy_port(buf);
}

int
legacy_unit_name(int port, char *buf, size_t sz)
{
	int n = snprintf(buf, sz, LEGACY_PREFIX "%d.service", port);

	return n < 0 || (size_t)n >= sz ? -1 : 0;
}

/*
 * Split a command line as systemd does for ExecStart= (quotes and
 * backslash escapes), into words stored one after another in buf.
 * Specifiers other than "%%" and "$" variables are refused: their value
 * depends on a manager we do not ask.
 */
static int
split(const char *s, char *buf, size_t sz, char **w, size_t *nw,
    struct sxerr *e)
{
	size_t o = 0, n = 0;
	char q;

	while (*s != '\0') {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		if (n == MAXWORDS)
			return sxerr_set(e, EX_DATAERR, "ExecStart: too long");
		w[n++] = buf + o;
		q = 0;
		for (; *s != '\0' && (q != 0 || (*s != ' ' && *s != '\t'));
		    s++) {
			if (q == 0 && (*s == '"' || *s == '\'')) {
				q = *s;
				continue;
			}
			if (q != 0 && *s == q) {
				q = 0;
				continue;
			}
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '%' && s[1] == '%')
				s++;
			else if (*s == '%' || *s == '$')
				return sxerr_set(e, EX_DATAERR, "ExecStart: "
				    "'%c' expansion is not supported", *s);
			if (o + 2 >= sz)
				return sxerr_set(e, EX_DATAERR,
				    "ExecStart: too long");
			buf[o++] = *s;
		}
		if (q != 0)
			return sxerr_set(e, EX_DATAERR,
			    "ExecStart: unbalanced quote");
		buf[o++] = '\0';
	}
	*nw = n;
	return 0;
}

static int
keep(char *dst, const char *src, const char *what, struct sxerr *e)
{
	if (!text_word(src) || strlcpy(dst, src, LEGACY_STR) >= LEGACY_STR)
		return sxerr_set(e, EX_DATAERR, "%s: not a plain word: %s",
		    what, src);
	return 0;
}

/*
 * The options the supervisor sets itself (or that its BatchMode implies)
 * are dropped; the rest travel on as ssh_options.
 */
static int
add_opt(struct legacy *l, const char *o, struct sxerr *e)
{
	static const char *const ours[] = { "ServerAliveInterval",
	    "ServerAliveCountMax", "ExitOnForwardFailure",
	    "PasswordAuthentication", "PubkeyAuthentication", "BatchMode",
	    "ControlMaster", "ControlPath", NULL };
	size_t i, klen = strcspn(o, "= \t");

	for (i = 0; ours[i] != NULL; i++)
		if (strlen(ours[i]) == klen &&
		    strncasecmp(o, ours[i], klen) == 0)
			return 0;
	if (l->nopt == LEGACY_NOPT)
		return sxerr_set(e, EX_DATAERR, "too many -o options");
	return keep(l->opt[l->nopt++], o, "-o", e);
}

static int
add_fwd(struct legacy *l, char dir, const char *spec, struct sxerr *e)
{
	char buf[LEGACY_STR];

	if (l->nfwd == LEGACY_NFWD)
		return sxerr_set(e, EX_DATAERR, "too many forwards");
	if (!text_word(spec) || strchr(spec, ':') == NULL)
		return sxerr_set(e, EX_DATAERR, "-%c %s: not a forward",
		    dir, spec);
	if (snprintf(buf, sizeof(buf), "%c %s", dir, spec) >= (int)sizeof(buf))
		return sxerr_set(e, EX_DATAERR, "-%c: too long", dir);
	strlcpy(l->fwd[l->nfwd++], buf, LEGACY_STR);
	return 0;
}

/* Flags of ssh that take no argument; -4/-6/-C/-g map to options. */
static int
flag(struct legacy *l, char c, struct sxerr *e)
{
	switch (c) {
	case '4':
		return add_opt(l, "AddressFamily=inet", e);
	case '6':
		return add_opt(l, "AddressFamily=inet6", e);
	case 'C':
		return add_opt(l, "Compression=yes", e);
	case 'g':
		return add_opt(l, "GatewayPorts=yes", e);
	case 'N': case 'T': case 'n': case 'q': case 'v': case 'f':
		return 0;	/* the supervisor's own choices */
	default:
		return sxerr_set(e, EX_DATAERR,
		    "autossh option -%c is not supported", c);
	}
}

static int
optarg_of(struct legacy *l, char c, const char *v, int *bport,
    struct sxerr *e)
{
	char buf[LEGACY_STR];

	switch (c) {
	case 'M':
		return 0;	/* autossh's monitor port: not needed */
	case 'o':
		return add_opt(l, v, e);
	case 'i':
		return keep(l->key, v, "-i", e);
	case 'R': case 'L':
		return add_fwd(l, c, v, e);
	case 'p':
		if ((*bport = atoi(v)) < 1 || *bport > 65535 ||
		    strspn(v, "0123456789") != strlen(v))
			return sxerr_set(e, EX_DATAERR, "-p %s: not a port", v);
		return 0;
	case 'l':
		snprintf(buf, sizeof(buf), "User=%s", v);
		return add_opt(l, buf, e);
	case 'J':
		snprintf(buf, sizeof(buf), "ProxyJump=%s", v);
		return add_opt(l, buf, e);
	default:
		return sxerr_set(e, EX_DATAERR,
		    "autossh option -%c is not supported", c);
	}
}

/* The argv of ExecStart=: autossh (or ssh) with ssh's options. */
static int
parse_argv(struct legacy *l, char **w, size_t nw, struct sxerr *e)
{
	const char *base, *p;
	size_t i;
	int bport = 0;

	base = (base = strrchr(w[0], '/')) != NULL ? base + 1 : w[0];
	if (strcmp(base, "autossh") != 0 && strcmp(base, "ssh") != 0)
		return sxerr_set(e, EX_DATAERR,
		    "ExecStart: runs %s, not autossh", w[0]);
	for (i = 1; i < nw && w[i][0] == '-' && w[i][1] != '\0'; i++) {
		if (strcmp(w[i], "--") == 0) {
			i++;
			break;
		}
		for (p = w[i] + 1; *p != '\0'; p++) {
			if (strchr("BbcDEeFIiJLlMmOopQRSWw", *p) == NULL) {
				if (flag(l, *p, e) == -1)
					return -1;
				continue;
			}
			if (p[1] == '\0' && ++i == nw)
				return sxerr_set(e, EX_DATAERR,
				    "-%c: missing argument", *p);
			if (optarg_of(l, *p, p[1] != '\0' ? p + 1 : w[i],
			    &bport, e) == -1)
				return -1;
			break;
		}
	}
	if (i + 1 != nw)
		return sxerr_set(e, EX_DATAERR, i == nw ?
		    "ExecStart: no bastion" : "ExecStart: a remote command "
		    "after the bastion is not supported");
	if (keep(l->bastion, w[i], "bastion", e) == -1)
		return -1;
	if (bport != 0 && strchr(l->bastion, ':') == NULL) {
		size_t n = strlen(l->bastion);

		snprintf(l->bastion + n, sizeof(l->bastion) - n, ":%d", bport);
	}
	if (l->nfwd == 0)
		return sxerr_set(e, EX_DATAERR, "ExecStart: no -R forward");
	return 0;
}

/*
 * Read the text of a unit: the last ExecStart= and User= of [Service]
 * (continuation lines joined, comments skipped).
 */
int
legacy_parse(const char *text, struct legacy *l, struct sxerr *e)
{
	char line[LEGACY_MAX], exec[LEGACY_MAX] = "", words[LEGACY_MAX];
	char *w[MAXWORDS], *s;
	const char *t = text, *nl;
	size_t len, nw = 0;
	int service = 0;

	l->runas[0] = l->bastion[0] = l->key[0] = '\0';
	l->nfwd = l->nopt = 0;
	while (*t != '\0') {
		line[0] = '\0';
		do {	/* a trailing backslash continues the line */
			nl = strchr(t, '\n');
			len = nl != NULL ? (size_t)(nl - t) : strlen(t);
			if (strlen(line) + len + 2 > sizeof(line))
				return sxerr_set(e, EX_DATAERR, "line too long");
			strncat(line, t, len);
			t += len + (nl != NULL);
			len = strlen(line);
			if (len == 0 || line[len - 1] != '\\')
				break;
			line[len - 1] = ' ';
		} while (*t != '\0');
		for (s = line; *s == ' ' || *s == '\t'; s++)
			;
		if (*s == '#' || *s == ';' || *s == '\0')
			continue;
		if (*s == '[') {
			service = strncmp(s, "[Service]", 9) == 0;
			continue;
		}
		if (!service)
			continue;
		if (strncmp(s, "ExecStart=", 10) == 0)
			strlcpy(exec, s + 10, sizeof(exec));
		else if (strncmp(s, "User=", 5) == 0 && (!text_word(s + 5) ||
		    strlcpy(l->runas, s + 5, sizeof(l->runas)) >=
		    sizeof(l->runas)))
			return sxerr_set(e, EX_DATAERR, "User=: not a user name");
	}
	s = exec;
	while (*s != '\0' && strchr("-@:+!", *s) != NULL)
		s++;	/* systemd's prefixes of the command */
	if (*s == '\0')
		return sxerr_set(e, EX_DATAERR, "no ExecStart= in [Service]");
	if (split(s, words, sizeof(words), w, &nw, e) == -1)
		return -1;
	if (nw == 0)
		return sxerr_set(e, EX_DATAERR, "no ExecStart= in [Service]");
	return parse_argv(l, w, nw, e);
}

/* Read and parse the unit at path; its port comes from its name. */
int
legacy_read(const char *path, struct legacy *l, struct sxerr *e)
{
	char buf[LEGACY_MAX];
	const char *base;
	size_t have;
	int rc;

	memset(l, 0, sizeof(*l));
	strlcpy(l->path, path, sizeof(l->path));
	base = (base = strrchr(path, '/')) != NULL ? base + 1 : path;
	if ((l->port = legacy_port(base)) == -1)
		return sxerr_set(e, EX_DATAERR, "%s: not an %sPORT.service",
		    path, LEGACY_PREFIX);
	if ((rc = slurp(path, 0, buf, sizeof(buf), &have)) == -1)
		return sxerr_errno(e, errno == ENOENT ? EX_UNAVAILABLE :
		    EX_OSERR, "%s", path);
	if (rc == 1)
		return sxerr_set(e, EX_DATAERR, "%s: too large", path);
	if (memchr(buf, '\0', have) != NULL)
		return sxerr_set(e, EX_DATAERR, "%s: not a text file", path);
	if (legacy_parse(buf, l, e) == -1) {
		char msg[sizeof(e->msg)];

		if (e == NULL)
			return -1;
		strlcpy(msg, e->msg, sizeof(msg));
		return sxerr_set(e, e->ex, "%.200s: %.800s", path, msg);
	}
	return 0;
}

static int
byport(const void *a, const void *b)
{
	const struct legacy *x = a, *y = b;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return x->user_unit - y->user_unit;
}

/*
 * Append every autossh-tunnel-PORT.service of dir to *v (a unit that
 * cannot be read is listed with its problem). A missing dir is empty.
 */
int
legacy_list_dir(const char *dir, int user, struct legacy **v, size_t *n,
    struct sxerr *e)
{
	char path[4096];
	struct legacy *nv, *l;
	struct dirent *d;
	struct sxerr pe;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
		    sxerr_errno(e, EX_OSERR, "%s", dir);
	while ((d = readdir(dp)) != NULL) {
		if (legacy_port(d->d_name) == -1)
			continue;
		if ((nv = reallocarray(*v, *n + 1, sizeof(**v))) == NULL) {
			closedir(dp);
			return sxerr_errno(e, EX_OSERR, "legacy units");
		}
		*v = nv;
		l = &nv[(*n)++];
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (legacy_read(path, l, &pe) == -1)
			strlcpy(l->problem, pe.msg, sizeof(l->problem));
		l->user_unit = user;
	}
	closedir(dp);
	if (*n > 1)
		qsort(*v, *n, sizeof(**v), byport);
	return 0;
}

/* The units in /etc/systemd/system, then in the user's unit directory. */
int
legacy_list(struct legacy **v, size_t *n, struct sxerr *e)
{
	char dir[UNIT_PATH];

	*v = NULL;
	*n = 0;
	if (unit_dir(UNIT_SYSTEM, dir, sizeof(dir), e) == -1 ||
	    legacy_list_dir(dir, 0, v, n, e) == -1)
		goto fail;
	if (unit_dir(UNIT_USER, dir, sizeof(dir), NULL) == 0 &&
	    legacy_list_dir(dir, 1, v, n, e) == -1)
		goto fail;
	return 0;
fail:
	free(*v);
	*v = NULL;
	*n = 0;
	return -1;
}

/* The unit for port: 0 found, -1 with EX_UNAVAILABLE when none is. */
int
legacy_find(int port, struct legacy *out, struct sxerr *e)
{
	struct legacy *v;
	size_t n, i;

	if (legacy_list(&v, &n, e) == -1)
		return -1;
	for (i = 0; i < n && v[i].port != port; i++)
		;
	if (i == n) {
		free(v);
		return sxerr_set(e, EX_UNAVAILABLE, "%s%d.service: no such "
		    "unit in /etc/systemd/system or the user's unit directory",
		    LEGACY_PREFIX, port);
	}
	*out = v[i];
	free(v);
	return 0;
}

/*
 * The equivalent tunnel definition, named name, every value validated as
 * ssh-tunnel-up validates its own: same bastion, key, forwards and the
 * options kept; keepalive and retry settings are the supervisor's.
 */
int
legacy_tunnel(const struct legacy *l, const char *name, struct tunnel *t,
    struct sxerr *e)
{
	size_t i;

	if (l->problem[0] != '\0')
		return sxerr_set(e, EX_DATAERR, "%s", l->problem);
	tunnel_init(t, name);
	if (host_parse_bastion(l->bastion, &t->bastion[0], e) == -1)
		return -1;
	t->nbastion = 1;
	if (l->key[0] != '\0') {
		if (tunnel_valid_key(l->key, e) == -1)
			return -1;
		strlcpy(t->key, l->key, sizeof(t->key));
	}
	for (i = 0; i < l->nfwd && i < TUN_FWD_MAX; i++)
		if (tunnel_parse_forward(l->fwd[i], &t->fwd[i], e) == -1)
			return -1;
	t->nfwd = i;
	for (i = 0; i < l->nopt && i < TUN_OPT_MAX; i++)
		if (tunnel_add_option(t, l->opt[i], e) == -1)
			return -1;
	return tunnel_check(t, e);
}
