/* SPDX-License-Identifier: AGPL-3.0-only */
#include <err.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "guard.h"
#include "landlock.h"
#include "out.h"
#include "sftp.h"
#include "sxerr.h"
#include "text.h"

#define GUARD_CONFIG	"/etc/scitex-ssh/config.yaml"

extern char **environ;

static int	 verbose, quiet;

static void __attribute__((noreturn))
usage(FILE *fp, int ex)
{
	fprintf(fp,
	    "usage: ssh-copy-guard [-nqv] [-F config] [-r dir[:ro|:rw]] "
	    "[-s sftp_server]\n");
	exit(out_usage_status(fp, ex));
}

static void __attribute__((noreturn))
refused(const struct sxerr *e)
{
	syslog(LOG_NOTICE, "refused: %s", e->msg);
	errx(e->ex, "%s", e->msg);
}

/* Words for a human: quoted when they hold a blank, '?' for the rest. */
static void
print_argv(FILE *f, const struct guard_cmd *cmd)
{
	const char *s;
	size_t i;

	fprintf(f, "%s", cmd->prog);
	for (i = 1; i < cmd->argc; i++) {
		s = cmd->argv[i];
		fputc(' ', f);
		if (s[0] == '\0' || strpbrk(s, " \t'") != NULL)
			fputc('\'', f);
		for (; *s != '\0'; s++)
			fputc(*s >= 0x20 && *s < 0x7f && *s != '\'' ? *s : '?',
			    f);
		if (cmd->argv[i][0] == '\0' ||
		    strpbrk(cmd->argv[i], " \t'") != NULL)
			fputc('\'', f);
	}
	fputc('\n', f);
}

/* One line in the auth log for every command let through. */
static void
log_allowed(const struct guard_cmd *cmd)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	if ((f = open_memstream(&buf, &n)) == NULL)
		return;
	print_argv(f, cmd);
	if (fclose(f) == 0 && n > 0) {
		buf[n - 1] = '\0';
		syslog(LOG_INFO, "allowed: %s", buf);
	}
	free(buf);
}

static int
env_safe(const char *v, const char *set)
{
	if (*v == '\0' || strlen(v) > 1024 || !text_printable(v))
		return 0;
	return set == NULL || strspn(v, set) == strlen(v);
}

/*
 * The environment the copy program gets: a fixed PATH, who we are, the
 * locale; nothing a loader, a shell or rsync would act on. No HOME:
 * rsync's option parser reads aliases from $HOME/.popt, which may lie in
 * a root the client writes.
 */
static void
scrub_env(char **env, size_t max)
{
	static char path[] = "PATH=/usr/bin:/bin";
	static const char *keep[] = { "USER", "LOGNAME", "LANG", "LC_ALL",
	    "LC_CTYPE" };
	static const char loc[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-";
	char **ep;
	size_t i, k, n = 0;

	env[n++] = path;
	for (ep = environ; *ep != NULL; ep++) {
		for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
			k = strlen(keep[i]);
			if (strncmp(*ep, keep[i], k) == 0 && (*ep)[k] == '=')
				break;
		}
		if (i == sizeof(keep) / sizeof(keep[0]) || n + 1 >= max ||
		    !env_safe(*ep + k + 1, i < 2 ? NULL : loc))
			continue;
		env[n++] = *ep;
	}
	env[n] = NULL;
}

/*
 * The copy: section, from -F or the system file only: the files in the
 * user's home may be within reach of the very key we confine.
 */
static void
load_config(struct guard *g, const char *file, int have_roots,
    const char *sftp)
{
	struct config *c = NULL;
	struct sxerr e;

	if (file == NULL && access(GUARD_CONFIG, F_OK) == 0)
		file = GUARD_CONFIG;
	if (file != NULL && config_load(file, &c, &e) == -1)
		errx(e.ex, "%s", e.msg);
	if (guard_config(g, c, have_roots, &e) == -1) {
		config_free(c);
		errx(e.ex, "%s", e.msg);
	}
	config_free(c);
	/* -s wins over the file */
	if (sftp != NULL)
		strlcpy(g->sftp_server, sftp, sizeof(g->sftp_server));
	if (g->nroot == 0)
		errx(EX_CONFIG, "no roots: give -r or a copy: section");
	if (guard_check(g, file, &e) == -1)
		errx(e.ex, "%s", e.msg);
}

/*
 * Landlock, or the reason there is none; exits when policy needs it or
 * when what the client asked for is confined by Landlock alone.
 */
static void
confine(const struct guard *g, struct guard_cmd *cmd)
{
	struct ll_rule rule[GUARD_RULES_MAX];
	struct sxerr e;
	size_t n;
	int abi;

	if (landlock_no_new_privs(&e) == -1)
		errx(e.ex, "%s", e.msg);
	abi = landlock_abi();
	if (verbose)
		warnx("landlock: ABI %d%s", abi, abi < 1 ? " (none)" : "");
	if (abi < 1) {
		if (g->require_landlock) {
			sxerr_set(&e, EX_NOPERM, "Landlock is not available "
			    "and copy.require_landlock is true");
			refused(&e);
		}
		if (cmd->needs_ll != NULL) {
			sxerr_set(&e, EX_NOPERM, "Landlock is not available "
			    "and %s", cmd->needs_ll);
			refused(&e);
		}
		if (!quiet)
			warnx("Landlock not available: argument checks only");
		return;
	}
	if (guard_links(g, cmd, &e) == -1)
		refused(&e);
	n = guard_rules(g, cmd, rule, GUARD_RULES_MAX);
	if (landlock_confine(rule, n, &e) == -1)
		errx(e.ex, "%s", e.msg);
}

static void
log_refusal(void *arg, const char *msg)
{
	syslog(LOG_NOTICE, "refused: %s", msg);
	if (verbose)
		warnx("refused: %s", msg);
}

/*
 * sftp carries its paths inside the protocol: sftp-server runs as our
 * child and every request passes the filter in lib/sftp.c first.
 */
static void __attribute__((noreturn))
serve_sftp(const struct guard *g, const struct guard_cmd *cmd, char **env)
{
	struct sxerr e;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	rc = sftp_serve(g, cmd, env, log_refusal, NULL, &e);
	if (rc == -1) {
		syslog(LOG_NOTICE, "%s", e.msg);
		errx(e.ex, "%s", e.msg);
	}
	exit(rc);
}

struct opts {
	const char	*conf;
	const char	*sftp;
	int		 dry, have_roots;
};

static void
option(int ch, struct guard *g, struct opts *o)
{
	struct sxerr e;

	switch (ch) {
	case 'F': o->conf = optarg; break;
	case 'n': o->dry = 1; break;
	case 'r':
		if (guard_add_root(g, optarg, &e) == -1)
			errx(e.ex, "%s", e.msg);
		o->have_roots = 1;
		break;
	case 's':
		if (optarg[0] != '/' || strlen(optarg) >= sizeof(g->sftp_server))
			errx(EX_USAGE, "-s: an absolute path");
		o->sftp = optarg;
		break;
	default:	/* -h, -V, -q, -v, or a usage error */
		out_flag(ch, "ssh-copy-guard", usage, &quiet, &verbose);
	}
}

int
main(int argc, char *argv[])
{
	static struct guard g;
	static struct guard_cmd cmd;
	struct opts o = { NULL, NULL, 0, 0 };
	struct sxerr e;
	char *env[16];
	const char *oc;
	int ch;

	if (out_stdfd() == -1)
		err(EX_OSERR, "/dev/null");
	/* Connect now: the sandbox comes before the last message. */
	openlog("ssh-copy-guard", LOG_PID | LOG_NDELAY, LOG_AUTH);
	guard_init(&g);
	verbose = out_debug_env();
	while ((ch = getopt(argc, argv, "F:hnqr:s:Vv")) != -1)
		option(ch, &g, &o);
	argc -= optind;
	argv += optind;
	if (argc != 0)
		usage(stderr, EX_USAGE);
	load_config(&g, o.conf, o.have_roots, o.sftp);

	if ((oc = getenv("SSH_ORIGINAL_COMMAND")) == NULL) {
		sxerr_set(&e, EX_NOPERM, "this key may only copy files "
		    "(scp, sftp, rsync): no shell");
		refused(&e);
	}
	if (guard_parse(&g, oc, strlen(oc), &cmd, &e) == -1)
		refused(&e);
	if (o.dry) {
		print_argv(stdout, &cmd);
		return out_close(stdout) == 0 ? 0 : EX_OSERR;
	}
	if (chdir(g.root[0].path) == -1)
		err(EX_OSERR, "chdir %s", g.root[0].path);
	confine(&g, &cmd);
	log_allowed(&cmd);
	if (verbose)
		print_argv(stderr, &cmd);
	scrub_env(env, sizeof(env) / sizeof(env[0]));
	if (cmd.kind == GK_SFTP)
		serve_sftp(&g, &cmd, env);
	closelog();
	execve(cmd.prog, (char *const *)cmd.argv, env);
	err(EX_OSERR, "%s", cmd.prog);
}
