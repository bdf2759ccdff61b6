/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/stat.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guard.h"
#include "text.h"

#define MAXSYMLINKS	40
/* Every refusal of the client's command is "not permitted", exit 77. */
#define refuse(e, ...)	sxerr_set((e), EX_NOPERM, __VA_ARGS__)

/*
 * A word from the client, fit for a one-line message: at most 60 bytes,
 * anything outside printable ASCII shown as '?'.
 */
static const char *
vis(const char *s, char *buf, size_t sz)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 4 < sz && i < 60; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i] != '\0' && i + 4 <= sz) {
		memcpy(buf + i, "...", 4);
		return buf;
	}
	buf[i] = '\0';
	return buf;
}

/*
 * Only the counts are cleared: a root is written whole before it is
 * counted, and zeroing 32 unused PATH_MAX paths cost the guard 32 page
 * faults at every start.
 */
void
guard_init(struct guard *g)
{
	g->nroot = 0;
	g->require_landlock = 0;
	strlcpy(g->sftp_server, GUARD_SFTP_SERVER, sizeof(g->sftp_server));
}

/* Is path p equal to or beneath directory d (both canonical)? */
static int
beneath(const char *p, const char *d)
{
	size_t n = strlen(d);

	if (strcmp(d, "/") == 0)
		return 1;
	return strncmp(p, d, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

static int
add_root(struct guard *g, const char *dir, int rw, struct sxerr *e)
{
	struct guard_root *r;
	struct stat st;
	char real[PATH_MAX];
	size_t i;

	if (dir[0] != '/')
		return sxerr_set(e, EX_USAGE, "root %s: not an absolute path",
		    dir);
	if (realpath(dir, real) == NULL)
		return sxerr_errno(e, EX_CONFIG, "root %s", dir);
	if (stat(real, &st) == -1)
		return sxerr_errno(e, EX_CONFIG, "root %s", dir);
	if (!S_ISDIR(st.st_mode))
		return sxerr_set(e, EX_CONFIG, "root %s: not a directory",
		    dir);
	for (i = 0; i < g->nroot; i++)
		if (strcmp(g->root[i].path, real) == 0)
			return sxerr_set(e, EX_CONFIG, "root %s: given twice",
			    dir);
	/*
	 * Landlock adds up nested rights, so a read-only root beneath a
	 * writable one would be writable to the kernel layer: refused.
	 */
	for (i = 0; i < g->nroot; i++) {
		const struct guard_root *o = &g->root[i];

		if (rw == o->rw)
			continue;
		if (rw ? beneath(o->path, real) : beneath(real, o->path))
			return sxerr_set(e, EX_CONFIG, "root %s: read-only "
			    "root %s lies beneath read-write root %s", dir,
			    rw ? o->path : real, rw ? real : o->path);
	}
	if (g->nroot == GUARD_ROOTS_MAX)
		return sxerr_set(e, EX_CONFIG, "root %s: more than %d roots",
		    dir, GUARD_ROOTS_MAX);
	r = &g->root[g->nroot++];
	strlcpy(r->path, real, sizeof(r->path));
	r->rw = rw;
	return 0;
}

/* "dir", "dir:ro" or "dir:rw" (read-only unless said otherwise). */
int
guard_add_root(struct guard *g, const char *spec, struct sxerr *e)
{
	char dir[PATH_MAX];
	size_t n = strlen(spec);
	int rw = 0;

	if (n >= sizeof(dir))
		return sxerr_set(e, EX_USAGE, "root: path too long");
	strlcpy(dir, spec, sizeof(dir));
	if (n > 3 && (strcmp(spec + n - 3, ":ro") == 0 ||
	    strcmp(spec + n - 3, ":rw") == 0)) {
		rw = spec[n - 1] == 'w';
		dir[n - 3] = '\0';
	}
	return add_root(g, dir, rw, e);
}

static int
config_root(struct guard *g, const struct config *c, const struct cnode *n,
    struct sxerr *e)
{
	const struct cnode *p, *m;
	struct sxerr sub;
	size_t i;
	int rw = 0;

	if (n->type == CN_SCALAR) {
		if (guard_add_root(g, n->str, &sub) == -1)
			return config_err(e, c->path, n, "%s", sub.msg);
		return 0;
	}
	if (n->type != CN_MAP)
		return config_err(e, c->path, n,
		    "a root is {path: DIR, mode: ro|rw}");
	for (i = 0; i + 1 < n->nkid; i += 2) {
		const char *k = n->kid[i]->str;

		if (k == NULL || (strcmp(k, "path") != 0 &&
		    strcmp(k, "mode") != 0))
			return config_err(e, c->path, n->kid[i],
			    "unknown key %s in a root",
			    k == NULL ? "?" : k);
	}
	if ((p = cnode_get(n, "path")) == NULL || p->type != CN_SCALAR)
		return config_err(e, c->path, n, "a root needs path: DIR");
	if ((m = cnode_get(n, "mode")) != NULL) {
		if (m->type != CN_SCALAR || (strcmp(m->str, "ro") != 0 &&
		    strcmp(m->str, "rw") != 0))
			return config_err(e, c->path, m, "mode is ro or rw");
		rw = strcmp(m->str, "rw") == 0;
	}
	if (add_root(g, p->str, rw, &sub) == -1)
		return config_err(e, c->path, p, "%s", sub.msg);
	return 0;
}

/*
 * The copy: section of the config file: roots (unless the command line
 * gave some: skip_roots), require_landlock, sftp_server.
 */
int
guard_config(struct guard *g, const struct config *c, int skip_roots,
    struct sxerr *e)
{
	const struct cnode *s, *v;
	size_t i;

	if (c == NULL || c->root == NULL ||
	    (s = cnode_get(c->root, "copy")) == NULL)
		return 0;
	if (s->type != CN_MAP)
		return config_err(e, c->path, s, "copy: must be a map");
	for (i = 0; i + 1 < s->nkid; i += 2) {
		const struct cnode *k = s->kid[i];

		v = s->kid[i + 1];
		if (k->str == NULL)
			return config_err(e, c->path, k,
			    "copy: keys are names");
		if (strcmp(k->str, "roots") == 0) {
			size_t j;

			if (v->type != CN_SEQ)
				return config_err(e, c->path, v,
				    "copy.roots: must be a list");
			for (j = 0; !skip_roots && j < v->nkid; j++)
				if (config_root(g, c, v->kid[j], e) == -1)
					return -1;
		} else if (strcmp(k->str, "require_landlock") == 0) {
			if (v->type != CN_SCALAR || (strcmp(v->str, "true") != 0
			    && strcmp(v->str, "false") != 0))
				return config_err(e, c->path, v,
				    "copy.require_landlock: true or false");
			g->require_landlock = strcmp(v->str, "true") == 0;
		} else if (strcmp(k->str, "sftp_server") == 0) {
			if (v->type != CN_SCALAR || v->str[0] != '/' ||
			    strlcpy(g->sftp_server, v->str,
			    sizeof(g->sftp_server)) >= sizeof(g->sftp_server))
				return config_err(e, c->path, v,
				    "copy.sftp_server: an absolute path");
		} else
			return config_err(e, c->path, k, "unknown key copy.%s",
			    k->str);
	}
	return 0;
}

/*
 * Split a command line into words as sh(1) would, but without running
 * anything: blanks separate, '...' and "..." quote, backslash escapes.
 * Every construct that would make a shell expand, substitute, redirect,
 * glob or run a second command is refused, as are control characters
 * anywhere: what we execute is exactly what the client could see.
 */
/* A control character, refused wherever it is but as a tab between words. */
static int
control(unsigned char c, struct sxerr *e)
{
	if (c < 0x20 || c == 0x7f)
		return refuse(e, "control character 0x%02x in the command line",
		    c);
	return 0;
}

int
guard_split(const char *s, size_t len, struct guard_cmd *cmd, struct sxerr *e)
{
	char *o = cmd->buf;
	size_t i;
	int inword = 0;
	unsigned char c;

	cmd->nword = 0;
	if (len > GUARD_CMD_MAX)
		return refuse(e, "command line longer than %d bytes",
		    GUARD_CMD_MAX);
	if (memchr(s, '\0', len) != NULL)
		return refuse(e, "NUL byte in the command line");
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == ' ' || c == '\t') {
			if (inword) {
				*o++ = '\0';
				inword = 0;
			}
			continue;
		}
		if (control(c, e) == -1)
			return -1;
		if (!inword) {
			if (cmd->nword == GUARD_WORDS_MAX)
				return refuse(e, "more than %d words",
				    GUARD_WORDS_MAX);
			cmd->word[cmd->nword++] = o;
			inword = 1;
		}
		if (c == '\\') {
			if (++i == len)
				return refuse(e, "trailing backslash");
			if (control(c = s[i], e) == -1)
				return -1;
			*o++ = c;
		} else if (c == '\'') {
			for (i++; i < len && s[i] != '\''; i++) {
				if (control(c = s[i], e) == -1)
					return -1;
				*o++ = c;
			}
			if (i == len)
				return refuse(e, "unterminated quote");
		} else if (c == '"') {
			for (i++; i < len && s[i] != '"'; i++) {
				if (control(c = s[i], e) == -1)
					return -1;
				if (c == '$' || c == '`')
					return refuse(e, "shell expansion "
					    "'%c' refused", c);
				if (c == '\\' && i + 1 < len &&
				    strchr("$`\"\\", s[i + 1]) != NULL)
					c = s[++i];
				*o++ = c;
			}
			if (i == len)
				return refuse(e, "unterminated quote");
		} else if (strchr("$`;|&<>(){}*?[]~#!", c) != NULL)
			return refuse(e, "shell syntax '%c' refused", c);
		else
			*o++ = c;
	}
	if (inword)
		*o++ = '\0';
	return 0;
}

/*
 * Resolve path (relative to base) the way the kernel will, symlink by
 * symlink, into out. A tail that does not exist yet is taken as written
 * lexically ("missing/.." is where "missing" would be created).
 */
static int
resolve(const char *base, const char *path, char *out, struct sxerr *e)
{
	char rest[PATH_MAX * 2], comp[NAME_MAX + 1], link[PATH_MAX];
	char tmp[PATH_MAX * 2];
	struct stat st;
	size_t olen = 0, misslen = 0, n;
	int links = 0, missing = 0;
	ssize_t ll;
	char *p, *q;

	if (path[0] == '/')
		n = strlcpy(rest, path, sizeof(rest));
	else
		n = (size_t)snprintf(rest, sizeof(rest), "%s/%s", base, path);
	if (n >= PATH_MAX)
		return refuse(e, "path too long");
	out[0] = '\0';
	p = rest;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		if ((q = strchr(p, '/')) == NULL)
			q = p + strlen(p);
		if ((size_t)(q - p) > NAME_MAX)
			return refuse(e, "path name component too long");
		memcpy(comp, p, q - p);
		comp[q - p] = '\0';
		p = q;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			while (olen > 0 && out[olen - 1] != '/')
				olen--;
			if (olen > 0)
				olen--;
			out[olen] = '\0';
			/* Back above the missing part: look at links again. */
			if (missing && olen <= misslen)
				missing = 0;
			continue;
		}
		if (olen + 1 + strlen(comp) >= PATH_MAX)
			return refuse(e, "path too long");
		out[olen++] = '/';
		olen += strlcpy(out + olen, comp, PATH_MAX - olen);
		if (missing)
			continue;
		if (lstat(out, &st) == -1) {
			if (errno != ENOENT)
				return sxerr_errno(e, EX_NOPERM, "path");
			missing = 1;
			misslen = olen - strlen(comp) - 1;
			continue;
		}
		if (S_ISLNK(st.st_mode)) {
			if (++links > MAXSYMLINKS)
				return refuse(e, "too many symbolic links");
			ll = readlink(out, link, sizeof(link) - 1);
			if (ll == -1)
				return sxerr_errno(e, EX_NOPERM, "readlink");
			link[ll] = '\0';
			if (strlen(link) + strlen(p) + 1 >= sizeof(tmp) / 2)
				return refuse(e, "path too long");
			snprintf(tmp, sizeof(tmp), "%s%s", link, p);
			strlcpy(rest, tmp, sizeof(rest));
			p = rest;
			/* Drop the link itself; an absolute target restarts. */
			if (link[0] == '/')
				olen = 0;
			else {
				while (olen > 0 && out[olen - 1] != '/')
					olen--;
				if (olen > 0)
					olen--;
			}
			out[olen] = '\0';
			continue;
		}
		if (!S_ISDIR(st.st_mode) && *p != '\0') {
			/* Only trailing slashes may follow a non-directory. */
			q = p;
			while (*q == '/')
				q++;
			if (*q != '\0')
				return refuse(e, "not a directory on the way");
		}
	}
	if (olen == 0)
		strlcpy(out, "/", PATH_MAX);
	return 0;
}

/* The root holding path p (the deepest, when roots nest), or NULL. */
static const struct guard_root *
holder(const struct guard *g, const char *p)
{
	const struct guard_root *best = NULL;
	size_t i, n, bn = 0;

	for (i = 0; i < g->nroot; i++) {
		const char *r = g->root[i].path;

		if (!beneath(p, r))
			continue;
		n = strlen(r);
		if (best == NULL || n >= bn) {
			best = &g->root[i];
			bn = n;
		}
	}
	return best;
}

/*
 * May the client name path (relative to base, or to the first root when
 * base is NULL), for reading or, with write, for writing? 0 yes; -1 no
 * with the reason, EX_NOPERM.
 */
int
guard_path(const struct guard *g, const char *base, const char *path,
    int write, struct sxerr *e)
{
	const struct guard_root *r;
	char real[PATH_MAX], v[80];

	if (g->nroot == 0)
		return refuse(e, "no roots");
	if (base == NULL)
		base = g->root[0].path;
	if (path[0] == '~')
		return refuse(e, "%s: home directory paths are not supported",
		    vis(path, v, sizeof(v)));
	if (resolve(base, path, real, e) == -1) {
		char m[sizeof(e->msg)];

		strlcpy(m, e->msg, sizeof(m));
		return refuse(e, "%s: %s", vis(path, v, sizeof(v)), m);
	}
	r = holder(g, real);
	if (r == NULL)
		return refuse(e, "%s: outside the copy roots",
		    vis(path, v, sizeof(v)));
	if (write && !r->rw)
		return refuse(e, "%s: %s is read-only",
		    vis(path, v, sizeof(v)), r->path);
	return 0;
}

/*
 * For the sftp filter, which resolves the paths of each request itself:
 * the resolution above (out holds PATH_MAX bytes) and the root lookup.
 */
int
guard_resolve(const char *base, const char *path, char *out, struct sxerr *e)
{
	return resolve(base, path, out, e);
}

const struct guard_root *
guard_holder(const struct guard *g, const char *p)
{
	return holder(g, p);
}


/*
 * Nothing the client can change may steer the guard: the config file and
 * the programs it runs may not lie in a :rw root, and the config file
 * (conf, or NULL) may not be writable by group or others.
 */
int
guard_check(const struct guard *g, const char *conf, struct sxerr *e)
{
	const char *p[] = { conf, g->sftp_server, GUARD_SCP, GUARD_RSYNC };
	const struct guard_root *r;
	char real[PATH_MAX];
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		if (p[i] == NULL || realpath(p[i], real) == NULL)
			continue;
		if ((r = holder(g, real)) != NULL && r->rw)
			return sxerr_set(e, EX_CONFIG, "%s lies in the "
			    "writable root %s", p[i], r->path);
	}
	if (conf != NULL && stat(conf, &st) == 0 && (st.st_mode & 022) != 0)
		return sxerr_set(e, EX_CONFIG, "%s: writable by group or "
		    "others", conf);
	return 0;
}

static int
has_rw(const struct guard *g)
{
	size_t i;

	for (i = 0; i < g->nroot; i++)
		if (g->root[i].rw)
			return 1;
	return 0;
}

static void
push(struct guard_cmd *cmd, const char *a)
{
	if (cmd->argc < sizeof(cmd->argv) / sizeof(cmd->argv[0]) - 1)
		cmd->argv[cmd->argc++] = a;
	cmd->argv[cmd->argc] = NULL;
}

/* Is path (relative to the first root) a directory, links followed? */
static int
is_dir(const struct guard *g, const char *path)
{
	char p[PATH_MAX];
	struct stat st;

	if (path[0] != '/' && (size_t)snprintf(p, sizeof(p), "%s/%s",
	    g->root[0].path, path) < sizeof(p))
		path = p;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

#define SCP_D	(1 << 0)
#define SCP_R	(1 << 2)

/* Legacy scp: scp [-dprv] -f|-t [--] path ..., the server end only. */
static int
parse_scp(const struct guard *g, struct guard_cmd *cmd, struct sxerr *e)
{
	static const char *flag[] = { "-d", "-p", "-r", "-v" };
	static const char fl[] = "dprv";
	size_t i = 1, j;
	int mode = 0, set = 0;
	const char *w, *f;
	char v[80];

	for (; i < cmd->nword && cmd->word[i][0] == '-'; i++) {
		w = cmd->word[i];
		if (strcmp(w, "--") == 0) {
			i++;
			break;
		}
		if (w[1] == '\0')
			return refuse(e, "scp: \"-\" is not a path");
		for (j = 1; w[j] != '\0'; j++) {
			if (w[j] == 'f' || w[j] == 't') {
				if (mode != 0 && mode != w[j])
					return refuse(e, "scp: both -f and -t");
				mode = w[j];
			} else if ((f = strchr(fl, w[j])) != NULL)
				set |= 1 << (f - fl);
			else
				return refuse(e, "scp: option -%s refused",
				    vis(w + j, v, 6));
		}
	}
	if (mode == 0)
		return refuse(e, "scp: only the server end (-f or -t) is "
		    "allowed");
	if (i == cmd->nword)
		return refuse(e, "scp: no path");
	if (mode == 't' && cmd->nword - i != 1)
		return refuse(e, "scp -t: exactly one target");
	cmd->kind = GK_SCP;
	cmd->writes = mode == 't';
	cmd->prog = GUARD_SCP;
	push(cmd, "scp");
	for (j = 0; j < 4; j++)
		if (set & (1 << j))
			push(cmd, flag[j]);
	push(cmd, mode == 't' ? "-t" : "-f");
	push(cmd, "--");
	if (set & SCP_R) {
		/* scp follows every link it meets on the way down. */
		cmd->walk0 = cmd->argc;
		cmd->nwalk = cmd->nword - i;
		cmd->walk_rw = mode == 't';
		cmd->needs_ll = "scp -r follows symbolic links in the tree";
	} else if (mode == 't' && ((set & SCP_D) || is_dir(g, cmd->word[i])))
		cmd->needs_ll = "scp -t into a directory writes to a name "
		    "the client chooses, which may be a symbolic link";
	for (; i < cmd->nword; i++) {
		if (guard_path(g, NULL, cmd->word[i], mode == 't', e) == -1)
			return -1;
		push(cmd, cmd->word[i]);
	}
	return 0;
}

static int
alnum_word(const char *s)
{
	if (*s == '\0' || strlen(s) > 32)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/*
 * The sftp subsystem as sshd hands it to a forced command: the Subsystem
 * line (a path ending in sftp-server, or internal-sftp) with at most the
 * logging options. We run our own sftp-server behind the request filter
 * (lib/sftp.c), read-only when no root is writable, and without the two
 * requests the filter refuses anyway.
 */
static int
parse_sftp(const struct guard *g, struct guard_cmd *cmd, struct sxerr *e)
{
	size_t i;
	const char *w, *val;
	char v[80];

	for (i = 1; i < cmd->nword; i++) {
		w = cmd->word[i];
		if (strcmp(w, "-e") == 0)
			continue;
		if (strncmp(w, "-l", 2) != 0 && strncmp(w, "-f", 2) != 0)
			return refuse(e, "sftp-server: argument %s refused",
			    vis(w, v, sizeof(v)));
		val = w[2] != '\0' ? w + 2 :
		    (i + 1 < cmd->nword ? cmd->word[++i] : "");
		if (!alnum_word(val))
			return refuse(e, "sftp-server: bad value for %.2s", w);
	}
	cmd->kind = GK_SFTP;
	cmd->writes = has_rw(g);
	cmd->prog = g->sftp_server;
	push(cmd, "sftp-server");
	for (i = 1; i < cmd->nword; i++)
		push(cmd, cmd->word[i]);
	if (!cmd->writes)
		push(cmd, "-R");
	push(cmd, "-P");
	push(cmd, "home-directory,users-groups-by-id");
	return 0;
}

/*
 * rsync --server: the long options a client may send, with what their
 * value is. --link-dest makes hard links to the files it names, which a
 * later write in place would change: it needs a writable root. Anything
 * that runs a program (--rsh), reads a config or a secret, talks to a
 * daemon, writes a log or batch file, follows links out of the tree, or
 * takes its arguments over the protocol (-s) is absent and so refused.
 */
enum rk { RK_FLAG, RK_VAL, RK_SUFFIX, RK_RPATH, RK_WPATH, RK_FILES,
	RK_SENDER, RK_REMOVE };

static const struct ropt {
	const char	*name;
	enum rk		 kind;
} ropts[] = {
#define RSYNCOPT(name, kind)	{ name, kind },
#include "rsyncopt.def"
#undef RSYNCOPT
};

/*
 * Short options rsync --server takes without an argument. Not here: s
 * (arguments over the protocol), L k K (follow symlinks), e (only as the
 * capability string "e.xyz"), and every letter rsync does not define.
 */
static const char rshort[] = "ACDEHIJNORSUWXbcdgilmnopqrtuvxyz";

static const struct ropt *
ropt_find(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(ropts) / sizeof(ropts[0]); i++)
		if (strlen(ropts[i].name) == n &&
		    strncmp(ropts[i].name, name, n) == 0)
			return &ropts[i];
	return NULL;
}

/* -vlogDtpre.iLsfxCIvu: flags, then at most one capability string. */
static int
rsync_short(const char *w, struct sxerr *e)
{
	const char *p;
	char v[80];

	if ((w[1] == 'B' || w[1] == '@') && w[2] != '\0') {
		p = w + 2 + (w[1] == '@' && w[2] == '-');
		if (*p != '\0' && strspn(p, "0123456789") == strlen(p))
			return 0;
		return refuse(e, "rsync: option %s refused",
		    vis(w, v, sizeof(v)));
	}
	for (p = w + 1; *p != '\0'; p++) {
		if (*p == 'e') {
			p++;
			p += strspn(p, "0123456789");
			if (*p != '.')
				return refuse(e, "rsync: -e takes no command "
				    "here");
			p++;
			if (strspn(p, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(p))
				return refuse(e, "rsync: bad capability "
				    "string");
			return 0;
		}
		if (strchr(rshort, *p) == NULL)
			return refuse(e, "rsync: option -%s refused",
			    vis(p, v, 6));
	}
	if (w[1] == '\0')
		return refuse(e, "rsync: \"-\" is not an option");
	return 0;
}

/* A value of an option that takes no path: printable ASCII, no blank. */
static int
short_word(const char *s)
{
	return *s != '\0' && strlen(s) <= 256 && text_word(s);
}

struct rpath {
	const char	*val;
	enum rk		 kind;
	size_t		 at, n;		/* the words it spans */
};

static int
parse_rsync(const struct guard *g, struct guard_cmd *cmd, struct sxerr *e)
{
	struct rpath pv[16];
	const struct ropt *o;
	const char *w, *val, *eq, *dest = NULL;
	char v[80], join[PATH_MAX];
	unsigned char skip[GUARD_WORDS_MAX];
	size_t i, j, at, npv = 0;
	int sender = 0, remove = 0, files = 0, write;

	if (cmd->nword < 2 || strcmp(cmd->word[1], "--server") != 0)
		return refuse(e, "rsync: only \"rsync --server\" is allowed");
	for (i = 2; i < cmd->nword && cmd->word[i][0] == '-'; i++) {
		w = cmd->word[i];
		if (w[1] != '-') {
			if (rsync_short(w, e) == -1)
				return -1;
			continue;
		}
		at = i;
		eq = strchr(w + 2, '=');
		o = ropt_find(w + 2, eq != NULL ? (size_t)(eq - w - 2) :
		    strlen(w + 2));
		if (o == NULL)
			return refuse(e, "rsync: option %s refused",
			    vis(w, v, sizeof(v)));
		if (o->kind == RK_FLAG || o->kind == RK_SENDER ||
		    o->kind == RK_REMOVE) {
			if (eq != NULL)
				return refuse(e, "rsync: %s takes no value",
				    o->name);
			sender |= o->kind == RK_SENDER;
			remove |= o->kind == RK_REMOVE;
			continue;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < cmd->nword)
			val = cmd->word[++i];
		else
			return refuse(e, "rsync: %s needs a value", o->name);
		if (o->kind == RK_VAL && !short_word(val))
			return refuse(e, "rsync: bad value for --%s", o->name);
		if (o->kind == RK_SUFFIX && (!short_word(val) ||
		    strchr(val, '/') != NULL))
			return refuse(e, "rsync: bad value for --suffix");
		files |= o->kind == RK_FILES;
		if (o->kind == RK_RPATH || o->kind == RK_WPATH ||
		    (o->kind == RK_FILES && strcmp(val, "-") != 0)) {
			if (npv == sizeof(pv) / sizeof(pv[0]))
				return refuse(e, "rsync: too many path "
				    "options");
			pv[npv].val = val;
			pv[npv].at = at;
			pv[npv].n = i - at + 1;
			pv[npv++].kind = o->kind;
		}
	}
	if (i == cmd->nword || strcmp(cmd->word[i], ".") != 0)
		return refuse(e, "rsync: expected \".\" after the options");
	if (++i == cmd->nword)
		return refuse(e, "rsync: no path");
	if (!sender && cmd->nword - i != 1)
		return refuse(e, "rsync: a receiver takes one destination");
	write = !sender || remove;
	for (j = i; j < cmd->nword; j++) {
		if (cmd->word[j][0] == '-')
			return refuse(e, "rsync: path %s looks like an option",
			    vis(cmd->word[j], v, sizeof(v)));
		if (guard_path(g, NULL, cmd->word[j], write, e) == -1)
			return -1;
	}
	if (!sender)
		dest = cmd->word[i];
	memset(skip, 0, sizeof(skip));
	for (j = 0; j < npv; j++) {
		/*
		 * A sender has no use for the receiver's directories (a
		 * client sends them both ways): dropped, not checked. For a
		 * receiver, relative ones are taken beneath the destination.
		 */
		if (sender && pv[j].kind != RK_FILES) {
			memset(skip + pv[j].at, 1, pv[j].n);
			continue;
		}
		val = pv[j].val;
		if (dest != NULL && val[0] != '/' && pv[j].kind != RK_FILES) {
			if ((size_t)snprintf(join, sizeof(join), "%s/%s", dest,
			    val) >= sizeof(join))
				return refuse(e, "rsync: path too long");
			val = join;
		}
		if (guard_path(g, NULL, val, pv[j].kind == RK_WPATH, e) == -1)
			return -1;
	}
	cmd->kind = GK_RSYNC;
	cmd->writes = write;
	cmd->prog = GUARD_RSYNC;
	push(cmd, "rsync");
	push(cmd, "--server");
	/*
	 * A receiver stores every symbolic link it is sent with
	 * "/rsyncd-munged/" before the target, so that none it makes can
	 * lead anywhere, whatever is later renamed around it; a sender
	 * takes the prefix off again, so that clients get back what they
	 * sent.
	 */
	push(cmd, "--munge-links");
	for (j = 2; j < cmd->nword; j++)
		if (!skip[j])
			push(cmd, cmd->word[j]);
	if (!sender) {
		cmd->walk0 = cmd->argc - 1;
		cmd->nwalk = 1;
		cmd->walk_rw = 1;
		cmd->needs_ll = "an rsync receiver writes to names the client "
		    "chooses, through directories that may be symbolic links";
	} else if (files)
		cmd->needs_ll = "rsync --files-from names paths that no "
		    "check sees";
	return 0;
}

static const char *
base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s == NULL ? p : s + 1;
}

/*
 * Decide on SSH_ORIGINAL_COMMAND (s, len bytes): 0 and cmd filled with
 * what to execute, or -1 with EX_NOPERM and the reason.
 */
int
guard_parse(const struct guard *g, const char *s, size_t len,
    struct guard_cmd *cmd, struct sxerr *e)
{
	const char *w0;
	char v[80];

	cmd->argc = 0;
	cmd->argv[0] = NULL;
	cmd->writes = 0;
	cmd->needs_ll = NULL;
	cmd->walk0 = cmd->nwalk = 0;
	cmd->walk_rw = 0;
	if (guard_split(s, len, cmd, e) == -1)
		return -1;
	if (cmd->nword == 0)
		return refuse(e, "empty command");
	w0 = cmd->word[0];
	if (strcmp(w0, "scp") == 0)
		return parse_scp(g, cmd, e);
	if (strcmp(w0, "rsync") == 0)
		return parse_rsync(g, cmd, e);
	if (strcmp(w0, "internal-sftp") == 0 ||
	    (w0[0] == '/' && strcmp(base_name(w0), "sftp-server") == 0))
		return parse_sftp(g, cmd, e);
	return refuse(e, "not a copy command: %s", vis(w0, v, sizeof(v)));
}

/*
 * The links in the trees cmd recurses into (cmd->walk0 on, links not
 * followed but for the named paths themselves): each that leads to
 * something must lead into a root, or a :rw root when cmd writes there.
 * scp follows such links on its way down, and sets modes and times where
 * they lead, which Landlock does not govern; the client cannot make one
 * (rsync receivers munge what they are sent, scp makes none), so this
 * finds those placed by others. A dangling link is let be: following it
 * leads nowhere. 0, or -1 and the reason.
 */
int
guard_links(const struct guard *g, const struct guard_cmd *cmd,
    struct sxerr *e)
{
	char *path[GUARD_WORDS_MAX + 1], (*abs)[PATH_MAX];
	char m[sizeof(e->msg)], v[80];
	struct stat st;
	FTSENT *f;
	FTS *t;
	size_t i;
	int rc = 0;

	if (cmd->nwalk == 0)
		return 0;
	if ((abs = calloc(cmd->nwalk, sizeof(*abs))) == NULL)
		return sxerr_errno(e, EX_OSERR, "calloc");
	for (i = 0; i < cmd->nwalk && i < GUARD_WORDS_MAX; i++) {
		path[i] = (char *)cmd->argv[cmd->walk0 + i];
		if (path[i][0] != '/') {
			if ((size_t)snprintf(abs[i], sizeof(abs[i]), "%s/%s",
			    g->root[0].path, path[i]) >= sizeof(abs[i])) {
				free(abs);
				return refuse(e, "path too long");
			}
			path[i] = abs[i];
		}
	}
	path[i] = NULL;
	if ((t = fts_open(path, FTS_PHYSICAL | FTS_COMFOLLOW | FTS_NOCHDIR,
	    NULL)) == NULL) {
		free(abs);
		return sxerr_errno(e, EX_OSERR, "fts_open");
	}
	while (rc == 0 && (f = fts_read(t)) != NULL) {
		if (f->fts_info != FTS_SL || stat(f->fts_path, &st) == -1)
			continue;
		if ((rc = guard_path(g, NULL, f->fts_path, cmd->walk_rw,
		    e)) == -1) {
			strlcpy(m, e->msg, sizeof(m));
			refuse(e, "symbolic link %s in the tree: %s",
			    vis(f->fts_path, v, sizeof(v)), m);
		}
	}
	fts_close(t);
	free(abs);
	return rc;
}

/*
 * The ELF interpreter that prog names (PT_INTERP), into buf; "" when
 * there is none or prog is not an ELF file for this machine.
 */
static void
elf_interp(const char *prog, char *buf, size_t sz)
{
	ElfW(Ehdr) eh;
	ElfW(Phdr) ph;
	ssize_t n;
	size_t i;
	int fd;

	buf[0] = '\0';
	if ((fd = open(prog, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_phentsize != sizeof(ph))
		goto done;
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) !=
		    sizeof(ph))
			break;
		if (ph.p_type != PT_INTERP || ph.p_filesz >= sz)
			continue;
		n = pread(fd, buf, ph.p_filesz, ph.p_offset);
		buf[n > 0 ? (size_t)n : 0] = '\0';
		if (n > 0 && (size_t)n == ph.p_filesz && buf[0] == '/' &&
		    strlen(buf) + 1 == ph.p_filesz)
			break;
		buf[0] = '\0';
	}
done:
	close(fd);
}

/*
 * The Landlock rules for cmd: each root with its mode; execute for the
 * program and its ELF interpreter only; read for the shared libraries,
 * the locale and the files the C library consults (users and groups for
 * scp's and sftp-server's own getpwuid(), the time zone for their logs);
 * /dev/null. Nothing of it can be named by a client: every path it names
 * must lie in a root, and guard_links() keeps links there from leading
 * here. Returns the number of rules written.
 */
size_t
guard_rules(const struct guard *g, struct guard_cmd *cmd,
    struct ll_rule *r, size_t max)
{
	static const struct ll_rule sys[] = {
		{ "/usr/lib", LL_RO, 1 },
		{ "/usr/lib64", LL_RO, 1 },
		{ "/lib", LL_RO, 1 },
		{ "/lib64", LL_RO, 1 },
		{ "/etc/ld.so.cache", LL_RO, 1 },
		{ "/etc/nsswitch.conf", LL_RO, 1 },
		{ "/etc/passwd", LL_RO, 1 },
		{ "/etc/group", LL_RO, 1 },
		{ "/etc/localtime", LL_RO, 1 },
		{ "/dev/null", LL_RW, 0 },
	};
	size_t i, n = 0;

	for (i = 0; i < g->nroot && n < max; i++, n++) {
		r[n].path = g->root[i].path;
		r[n].access = g->root[i].rw ? LL_RW : LL_RO;
		r[n].optional = 0;
	}
	for (i = 0; i < sizeof(sys) / sizeof(sys[0]) && n < max; i++)
		r[n++] = sys[i];
	if (n < max) {
		r[n].path = cmd->prog;
		r[n].access = LL_RX;
		r[n++].optional = 0;
	}
	elf_interp(cmd->prog, cmd->interp, sizeof(cmd->interp));
	if (cmd->interp[0] != '\0' && n < max) {
		r[n].path = cmd->interp;
		r[n].access = LL_RX;
		r[n++].optional = 0;
	}
#ifdef __SANITIZE_ADDRESS__
	/* See confine_self() in sftprelay.c: the guard stays for sftp. */
	if (cmd->kind == GK_SFTP && n < max) {
		r[n].path = "/proc";
		r[n].access = LL_RO;
		r[n++].optional = 0;
	}
#endif
	return n;
}
