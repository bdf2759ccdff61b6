/* SPDX-License-Identifier: AGPL-3.0-only */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"
#include "sshbin.h"
#include "text.h"

#define RESOLVE_MS	5000	/* ssh -G reads files, it does not connect */

/*
 * The batch defaults of every ssh, scp and rsync run here: never a
 * prompt, no connection sharing, none of the host's configured forwards,
 * and no LocalCommand (a local shell the host's config could start).
 */
static const char *const batch[] = {
	"-o", "BatchMode=yes", "-o", "ControlMaster=no",
	"-o", "ControlPath=none", "-o", "ClearAllForwardings=yes",
	"-o", "PermitLocalCommand=no", NULL
};

/*
 * What rsync may be given as a remote path, and what a word of a remote
 * argv may hold unquoted: characters no POSIX shell gives a meaning.
 * rsync before 3.2.4 passes remote paths through the remote shell as
 * they are, so a remote path is refused rather than quoted.
 */
#define SHELL_PLAIN \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" \
	"._/+@%,=:-"

/* An argv under construction; oom set once anything failed. */
struct vec {
	char	**v;
	size_t	  n, cap;
	int	  oom;
};

static void vadd(struct vec *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
vadd(struct vec *a, const char *fmt, ...)
{
	va_list ap;
	char **nv, *s;

	if (a->oom)
		return;
	if (a->n + 2 > a->cap) {
		if ((nv = reallocarray(a->v, a->cap + 32, sizeof(*nv))) ==
		    NULL) {
			a->oom = 1;
			return;
		}
		a->v = nv;
		a->cap += 32;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		a->oom = 1;
	else {
		a->v[a->n++] = s;
		a->v[a->n] = NULL;
	}
	va_end(ap);
}

static void
vlist(struct vec *a, const char *const *l)
{
	for (; *l != NULL; l++)
		vadd(a, "%s", *l);
}

void
remote_argv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

const char *
remote_feature(enum remote_op op)
{
	return op == REMOTE_EXEC || op == REMOTE_PROBE ? "exec" : "copy";
}

/* A refused value, shown as printable ASCII with the rest as \xNN. */
static int
refuse(struct sxerr *e, const char *what, const char *v, const char *why)
{
	char buf[80];

	text_vis(v, buf, sizeof(buf));
	return sxerr_set(e, EX_DATAERR, "%s: %s: %s", what, buf, why);
}

/* No control character, except those in allow. */
static int
no_controls(const char *s, const char *allow)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 || *s == 0x7f) &&
		    strchr(allow, *s) == NULL)
			return 0;
	return 1;
}

static int
check_len(const char *what, const char *s, size_t min, size_t max,
    struct sxerr *e)
{
	if (s == NULL || strlen(s) < min)
		return sxerr_set(e, EX_DATAERR, "%s: missing", what);
	if (strlen(s) > max)
		return sxerr_set(e, EX_DATAERR, "%s: longer than %zu bytes",
		    what, max);
	return 0;
}

/* A path, what says which: an argv word of its own, never an option. */
static int
check_path(const char *what, const char *p, struct sxerr *e)
{
	if (check_len(what, p, 1, REMOTE_WORD_MAX, e) == -1)
		return -1;
	if (p[0] == '-')
		return refuse(e, what, p, "starts with '-'");
	return 0;
}

/* A local path: no control characters either. */
static int
check_local(const char *p, struct sxerr *e)
{
	if (check_path("local", p, e) == -1)
		return -1;
	if (!no_controls(p, ""))
		return refuse(e, "local", p, "contains a control character");
	return 0;
}

/*
 * A remote path: scp hands it to the sftp server, rsync to the remote
 * shell (escaped by rsync 3.2.4 and later only), so only characters that
 * mean nothing to a shell, plus '~' at the start for the home directory,
 * and bytes of UTF-8.
 */
static int
check_remote(const char *p, struct sxerr *e)
{
	const char *s;

	if (check_path("remote", p, e) == -1)
		return -1;
	for (s = p + (p[0] == '~'); *s != '\0'; s++)
		if ((unsigned char)*s < 0x80 && strchr(SHELL_PLAIN, *s) ==
		    NULL)
			return refuse(e, "remote", p, "want A-Z a-z 0-9 and "
			    "._/+@%,=:- (and ~ first)");
	return 0;
}

/* A program name for a probe: what command -v may be asked about. */
static int
check_name(const char *n, struct sxerr *e)
{
	size_t len = n != NULL ? strlen(n) : 0;

	if (len == 0 || len > REMOTE_NAME_MAX || !(isalnum((unsigned char)*n) ||
	    *n == '_') || strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
	    "opqrstuvwxyz0123456789._+-") != len)
		return refuse(e, "names", n != NULL ? n : "", "want 1 to 64 "
		    "of A-Z a-z 0-9 . _ + -, starting with a letter, digit "
		    "or _");
	return 0;
}

/*
 * An rsync --exclude pattern. A leading "- " or "+ " would make it a
 * rule of the other kind, "!" would clear the list: refused, as is
 * anything but printable ASCII.
 */
static int
check_exclude(const char *x, struct sxerr *e)
{
	const char *s;

	if (check_len("exclude", x, 1, REMOTE_EXCLUDE_MAX, e) == -1)
		return -1;
	if (strchr("+-!", x[0]) != NULL)
		return refuse(e, "exclude", x, "starts with '+', '-' or '!'");
	for (s = x; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return refuse(e, "exclude", x, "not printable ASCII");
	return 0;
}

static int
check_exec(const struct remote_req *r, struct sxerr *e)
{
	size_t i;

	if ((r->command == NULL) == (r->argv == NULL || r->argc == 0))
		return sxerr_set(e, EX_DATAERR, "command, argv: give exactly "
		    "one");
	if (r->command != NULL) {
		if (check_len("command", r->command, 1, REMOTE_CMD_MAX, e) ==
		    -1)
			return -1;
		if (!no_controls(r->command, "\t\n"))
			return refuse(e, "command", r->command, "contains a "
			    "control character other than tab or newline");
		return 0;
	}
	if (r->argc > REMOTE_ARGC_MAX)
		return sxerr_set(e, EX_DATAERR, "argv: more than %d words",
		    REMOTE_ARGC_MAX);
	for (i = 0; i < r->argc; i++) {
		if (check_len("argv", r->argv[i], i == 0, REMOTE_WORD_MAX,
		    e) == -1)
			return -1;
		if (!no_controls(r->argv[i], ""))
			return refuse(e, "argv", r->argv[i], "contains a "
			    "control character (use command for a script)");
	}
	return 0;
}

/*
 * Validate a request: the host as ssh-allow-check validates one (with an
 * optional user@ and :port, as a bastion), and every value by the kind
 * of argument it becomes.
 */
int
remote_check(const struct remote_req *r, struct remote_target *t,
    struct sxerr *e)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	if (r->host == NULL)
		return sxerr_set(e, EX_DATAERR, "host: missing");
	if (host_parse_bastion(r->host, &t->dest, e) == -1)
		return -1;
	strlcpy(t->reached, t->dest.host, sizeof(t->reached));
	switch (r->op) {
	case REMOTE_EXEC:
		return check_exec(r, e);
	case REMOTE_PROBE:
		if (r->nnames > REMOTE_NAMES_MAX)
			return sxerr_set(e, EX_DATAERR, "names: more than %d",
			    REMOTE_NAMES_MAX);
		for (i = 0; i < r->nnames; i++)
			if (check_name(r->names[i], e) == -1)
				return -1;
		return 0;
	case REMOTE_SYNC_PUSH:
	case REMOTE_SYNC_PULL:
		if (r->nexclude > REMOTE_EXCLUDES_MAX)
			return sxerr_set(e, EX_DATAERR, "exclude: more than "
			    "%d", REMOTE_EXCLUDES_MAX);
		for (i = 0; i < r->nexclude; i++)
			if (check_exclude(r->exclude[i], e) == -1)
				return -1;
		/* FALLTHROUGH */
	case REMOTE_COPY_TO:
	case REMOTE_COPY_FROM:
		if (check_local(r->local, e) == -1 ||
		    check_remote(r->remote, e) == -1)
			return -1;
		return 0;
	}
	return sxerr_set(e, EX_DATAERR, "unknown operation");
}

static void
dest_opts(struct vec *a, const struct bastion *b, const char *portflag)
{
	if (b->user[0] != '\0') {
		vadd(a, "-l");
		vadd(a, "%s", b->user);
	}
	if (b->port != 0) {
		vadd(a, "%s", portflag);
		vadd(a, "%d", b->port);
	}
}

/*
 * The name ssh will connect to: the hostname line of ssh -G, which
 * applies the user's ssh_config (HostName, Match, canonicalization)
 * without connecting. remote_resolve_start starts it as a job (a Match
 * exec line or a slow resolver can make it take seconds, which a
 * caller with a loop waits for without blocking); remote_resolve_end,
 * once it is done, stores the name canonical in t->reached and frees
 * the job. remote_resolve does both, blocking.
 */
int
remote_resolve_start(const char *ssh, const struct remote_target *t,
    struct job *j, struct sxerr *e)
{
	struct vec a = { 0 };
	int rc;

	memset(j, 0, sizeof(*j));
	vadd(&a, "%s", ssh);
	vadd(&a, "-G");
	dest_opts(&a, &t->dest, "-p");
	vadd(&a, "--");
	vadd(&a, "%s", t->dest.host);
	if (a.oom) {
		remote_argv_free(a.v);
		return sxerr_set(e, EX_OSERR, "out of memory");
	}
	rc = job_start(j, a.v, RESOLVE_MS, 65536, e);
	remote_argv_free(a.v);
	return rc;
}

int
remote_resolve_end(const char *ssh, struct remote_target *t, struct job *j,
    struct sxerr *e)
{
	const char *h;
	char name[HOST_MAX + 2];
	int rc = -1;
	size_t n;

	if (job_exit_code(j) != 0 || j->out.buf == NULL) {
		if (j->err.buf != NULL)
			j->err.buf[strcspn(j->err.buf, "\n")] = '\0';
		sxerr_set(e, EX_CONFIG, "%s -G %s: %s", ssh, t->dest.host,
		    j->timed_out ? "timed out" : j->err.buf != NULL ?
		    j->err.buf : "failed");
		goto out;
	}
	for (h = j->out.buf; h != NULL; h = strchr(h, '\n'), h += h != NULL)
		if (strncmp(h, "hostname ", 9) == 0)
			break;
	if (h == NULL || (n = strcspn(h + 9, "\n")) >= sizeof(name)) {
		sxerr_set(e, EX_CONFIG, "%s -G %s: no hostname", ssh,
		    t->dest.host);
		goto out;
	}
	memcpy(name, h + 9, n);
	name[n] = '\0';
	if (host_canon(name, t->reached, sizeof(t->reached), e) == -1) {
		sxerr_set(e, EX_NOPERM, "%s: HostName %.100s in ssh_config "
		    "is not a host the policy can be asked about",
		    t->dest.host, name);
		goto out;
	}
	rc = 0;
out:
	job_free(j);
	return rc;
}

int
remote_resolve(const char *ssh, struct remote_target *t, struct sxerr *e)
{
	struct job j;

	if (remote_resolve_start(ssh, t, &j, e) == -1)
		return -1;
	if (job_wait(&j, e) == -1) {
		job_free(&j);
		return -1;
	}
	return remote_resolve_end(ssh, t, &j, e);
}

/*
 * The policy for the name given and, when ssh_config sends ssh elsewhere
 * (HostName), for the name reached too: both must allow, so that neither
 * a rule for an alias nor one for the machine behind it can be dodged.
 * 0 allowed; -1 with EX_NOPERM and the rule that denied.
 */
int
remote_gate(const struct policy *p, enum remote_op op,
    const struct remote_target *t, struct decision *d, struct sxerr *e)
{
	const char *feature = remote_feature(op), *h = t->dest.host;
	char why[1024];

	policy_decide(p, h, feature, d);
	if (d->allow && strcmp(t->reached, h) != 0) {
		h = t->reached;
		policy_decide(p, h, feature, d);
	}
	if (d->allow)
		return 0;
	policy_explain(d, h, why, sizeof(why));
	if (h == t->dest.host)
		return sxerr_set(e, EX_NOPERM, "%s: %s: denied by %s", h,
		    feature, why);
	return sxerr_set(e, EX_NOPERM, "%s (reached as %s): %s: denied by %s",
	    t->dest.host, h, feature, why);
}

/* Append w to fp as one word for a POSIX shell: as is, or single-quoted. */
static void
quote_word(FILE *fp, const char *w)
{
	if (*w != '\0' && strspn(w, SHELL_PLAIN) == strlen(w)) {
		fputs(w, fp);
		return;
	}
	fputc('\'', fp);
	for (; *w != '\0'; w++)
		if (*w == '\'')
			fputs("'\\''", fp);
		else
			fputc(*w, fp);
	fputc('\'', fp);
}

/*
 * The one string ssh sends as the remote command: the command as given,
 * the words quoted, or the probe's loop over its (validated) names. The
 * remote login shell must be a POSIX shell for words and probes.
 */
static char *
remote_command(const struct remote_req *r)
{
	char *s = NULL;
	size_t len, i;
	FILE *fp;

	if (r->op == REMOTE_EXEC && r->command != NULL)
		return strdup(r->command);
	if ((fp = open_memstream(&s, &len)) == NULL)
		return NULL;
	if (r->op == REMOTE_EXEC) {
		for (i = 0; i < r->argc; i++) {
			if (i > 0)
				fputc(' ', fp);
			quote_word(fp, r->argv[i]);
		}
	} else if (r->nnames == 0)
		fputs("true", fp);
	else {
		fputs("for n in", fp);
		for (i = 0; i < r->nnames; i++)
			fprintf(fp, " %s", r->names[i]);
		fputs("; do printf '%s ' \"$n\"; command -v \"$n\" || echo; "
		    "done", fp);
	}
	if (fclose(fp) == EOF) {
		free(s);
		return NULL;
	}
	return s;
}

/* [user@]host:path for scp and rsync, an IPv6 address in brackets. */
static void
remote_spec(struct vec *a, const struct bastion *b, const char *path)
{
	int v6 = strchr(b->host, ':') != NULL;

	vadd(a, "%s%s%s%s%s:%s", b->user, b->user[0] != '\0' ? "@" : "",
	    v6 ? "[" : "", b->host, v6 ? "]" : "", path);
}

/*
 * A local path as an operand: a relative one gets "./" so that scp and
 * rsync cannot take "a:b" for a host.
 */
static void
local_spec(struct vec *a, const char *path)
{
	vadd(a, "%s%s", path[0] == '/' ? "" : "./", path);
}

/*
 * rsync runs the program named by -e through its own word splitting, so
 * that string is made only of fixed options and a port number, and the
 * ssh binary must be a plain path.
 */
static int
rsh_string(struct vec *a, const char *ssh, const struct bastion *b,
    struct sxerr *e)
{
	char *s = NULL;
	size_t len, i;
	FILE *fp;

	if (ssh[0] == '-' || strspn(ssh, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh"
	    "ijklmnopqrstuvwxyz0123456789/._+-") != strlen(ssh))
		return sxerr_set(e, EX_CONFIG, "SCITEX_SSH_SSH: rsync -e "
		    "cannot carry it: want a path of A-Z a-z 0-9 / . _ + -");
	if ((fp = open_memstream(&s, &len)) == NULL)
		return sxerr_errno(e, EX_OSERR, "open_memstream");
	fprintf(fp, "%s -T", ssh);
	for (i = 0; batch[i] != NULL; i++)
		fprintf(fp, " %s", batch[i]);
	if (b->port != 0)
		fprintf(fp, " -p %d", b->port);
	if (fclose(fp) == EOF) {
		free(s);
		return sxerr_errno(e, EX_OSERR, "open_memstream");
	}
	vadd(a, "-e");
	vadd(a, "%s", s);
	free(s);
	return 0;
}

/*
 * The argv of a checked request (remote_check), ssh being the ssh
 * binary: *argvp, to be freed with remote_argv_free.
 *
 *	ssh -T|-tt BATCH [-l user] [-p port] -- host command
 *	scp -q BATCH -S ssh [-P port] [-r] -- from to
 *	rsync -a -e "ssh -T BATCH [-p port]" [--exclude=X ...] [--delete]
 *	    -- from to
 *
 * "--" before the host: ssh reads options after the host name too, but
 * not after "--". Without a terminal (-T) a remote command that neither
 * reads nor writes outlives a connection we end (sshd signals only a
 * terminal's processes); with one (-tt) it gets SIGHUP, but its stderr
 * comes merged into stdout, lines end in CRLF, and programs behave as
 * they do on a terminal.
 */
int
remote_argv(const struct remote_req *r, const struct remote_target *t,
    const char *ssh, char ***argvp, struct sxerr *e)
{
	const struct bastion *b = &t->dest;
	struct vec a = { 0 };
	char *cmd;
	size_t i;
	int push;

	*argvp = NULL;
	switch (r->op) {
	case REMOTE_EXEC:
	case REMOTE_PROBE:
		if ((cmd = remote_command(r)) == NULL)
			return sxerr_errno(e, EX_OSERR, "remote command");
		vadd(&a, "%s", ssh);
		vadd(&a, r->op == REMOTE_EXEC && r->tty ? "-tt" : "-T");
		vlist(&a, batch);
		dest_opts(&a, b, "-p");
		vadd(&a, "--");
		vadd(&a, "%s", b->host);
		vadd(&a, "%s", cmd);
		free(cmd);
		break;
	case REMOTE_COPY_TO:
	case REMOTE_COPY_FROM:
		vadd(&a, "scp");
		vadd(&a, "-q");
		vlist(&a, batch);
		vadd(&a, "-S");
		vadd(&a, "%s", ssh);
		if (b->port != 0) {
			vadd(&a, "-P");
			vadd(&a, "%d", b->port);
		}
		if (r->recursive)
			vadd(&a, "-r");
		vadd(&a, "--");
		if (r->op == REMOTE_COPY_TO) {
			local_spec(&a, r->local);
			remote_spec(&a, b, r->remote);
		} else {
			remote_spec(&a, b, r->remote);
			local_spec(&a, r->local);
		}
		break;
	case REMOTE_SYNC_PUSH:
	case REMOTE_SYNC_PULL:
		push = r->op == REMOTE_SYNC_PUSH;
		vadd(&a, "rsync");
		vadd(&a, "-a");
		if (rsh_string(&a, ssh, b, e) == -1) {
			remote_argv_free(a.v);
			return -1;
		}
		for (i = 0; i < r->nexclude; i++)
			vadd(&a, "--exclude=%s", r->exclude[i]);
		if (r->delete)
			vadd(&a, "--delete");
		vadd(&a, "--");
		if (push)
			local_spec(&a, r->local);
		remote_spec(&a, b, r->remote);
		if (!push)
			local_spec(&a, r->local);
		break;
	}
	if (a.oom || a.v == NULL) {
		remote_argv_free(a.v);
		return sxerr_set(e, EX_OSERR, "out of memory");
	}
	*argvp = a.v;
	return 0;
}

/*
 * Check, resolve, gate, build and start: the job runs under limit_ms
 * with cap bytes of each output kept. Nothing is started unless every
 * step before said yes. In two halves for a caller that waits for
 * ssh -G in its own loop: remote_start_resolve checks s->r, asks the
 * policy about the name given (a denied one starts nothing, not even
 * ssh -G) and starts ssh -G as s->rj; remote_start_job, once that is
 * done, frees it, asks the policy about the name reached and starts j.
 */
int
remote_start_resolve(struct remote_start *s, struct sxerr *e)
{
	struct decision d;

	memset(&s->rj, 0, sizeof(s->rj));
	if (remote_check(s->r, &s->t, e) == -1 ||
	    remote_gate(s->p, s->r->op, &s->t, &d, e) == -1)
		return -1;
	return remote_resolve_start(ssh_bin(), &s->t, &s->rj, e);
}

int
remote_start_job(struct remote_start *s, struct job *j, struct sxerr *e)
{
	struct decision d;
	char **argv;
	int rc;

	memset(j, 0, sizeof(*j));
	j->fd[0] = j->fd[1] = j->fd[2] = -1;
	if (remote_resolve_end(ssh_bin(), &s->t, &s->rj, e) == -1 ||
	    remote_gate(s->p, s->r->op, &s->t, &d, e) == -1 ||
	    remote_argv(s->r, &s->t, ssh_bin(), &argv, e) == -1)
		return -1;
	rc = job_start(j, argv, s->limit_ms, s->cap, e);
	remote_argv_free(argv);
	return rc;
}

int
remote_start(const struct remote_req *r, const struct policy *p,
    int limit_ms, size_t cap, struct job *j, struct sxerr *e)
{
	struct remote_start s = { .r = r, .p = p, .limit_ms = limit_ms,
	    .cap = cap };

	memset(j, 0, sizeof(*j));
	j->fd[0] = j->fd[1] = j->fd[2] = -1;
	if (remote_start_resolve(&s, e) == -1)
		return -1;
	if (job_wait(&s.rj, e) == -1) {
		job_free(&s.rj);
		return -1;
	}
	return remote_start_job(&s, j, e);
}

int
remote_run(const struct remote_req *r, const struct policy *p, int limit_ms,
    size_t cap, struct job *j, struct sxerr *e)
{
	if (remote_start(r, p, limit_ms, cap, j, e) == -1)
		return -1;
	return job_wait(j, e);
}

/*
 * Did ssh reach the host? Its own failures (connection, authentication,
 * host key) are exit 255; a job stopped by us says nothing either way.
 */
int
remote_reached(const struct job *j)
{
	int x = job_exit_code(j);

	return !j->timed_out && !j->cancelled && x >= 0 && x != 255;
}

/*
 * From a probe's output ("name path" or "name " a line), whether name was
 * found, and where (path may be NULL).
 */
int
remote_probe_found(const char *out, const char *name, char *path,
    size_t sz)
{
	size_t n = strlen(name), len;
	const char *l;

	for (l = out; l != NULL && *l != '\0'; l = strchr(l, '\n'),
	    l += l != NULL) {
		if (strncmp(l, name, n) != 0 || l[n] != ' ')
			continue;
		len = strcspn(l + n + 1, "\n");
		if (len == 0)
			return 0;
		if (path != NULL)
			snprintf(path, sz, "%.*s", (int)len, l + n + 1);
		return 1;
	}
	return 0;
}
