/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * ssh-allow-check: may FEATURE be used with HOST? As a Match exec hook it
 * prints nothing on stdout and always exits normally; every non-zero status
 * lands on the restrictive side of the shipped snippet.
 */
#include <err.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "guard.h"
#include "host.h"
#include "out.h"
#include "policy.h"
#include "relay.h"
#include "tunnel.h"

#define CONNECT_TIMEOUT_MS	10000

static int quiet, verbose;

static void
usage(FILE *fp, int ex)
{
	fprintf(fp,
	    "usage: ssh-allow-check [-qvx] [-F config] [-f feature] [--] host\n"
	    "       ssh-allow-check [-Pv] [-F config] [-f feature] -W host:port\n"
	    "       ssh-allow-check [-F config] [-f feature] -d [--] host\n"
	    "       ssh-allow-check [-F config] -n\n");
	exit(out_usage_status(fp, ex));
}

/* The policy, or exit: 78 for a config error, 77 at the refusing end. */
static struct policy *
load_policy(const char *file, int ex_fail)
{
	struct policy *p;
	struct sxerr e;

	if (policy_open(file, &p, &e) == -1) {
		if (ex_fail == EX_NOPERM)
			errx(EX_NOPERM, "%s; refusing", e.msg);
		errx(e.ex, "%s", e.msg);
	}
	return p;
}

static void
tell(FILE *fp, const char *host, const struct policy *p,
    const struct decision *d)
{
	char why[1024];

	policy_explain(d, host, why, sizeof(why));
	if (d->by == DEC_NOFILE)
		fprintf(fp, "%s: %s: %s (looked in %s)\n", host, d->feature,
		    why, p->searched);
	else
		fprintf(fp, "%s: %s: %s\n", host, d->feature, why);
}

/*
 * host's canonical name (HOST_MAX + 1 bytes) and the policy's decision on
 * feature there; the policy, or exit: a bad name 65, at the refusing end
 * (ex_fail 77) 77 for anything, saying so.
 */
static struct policy *
decide(const char *file, const char *host, const char *feature, int ex_fail,
    char *canon, struct decision *d)
{
	struct policy *p;
	struct sxerr e;

	if (host_canon(host, canon, HOST_MAX + 1, &e) == -1) {
		if (ex_fail == EX_NOPERM)
			errx(EX_NOPERM, "%s; refusing", e.msg);
		errx(EX_DATAERR, "%s", e.msg);
	}
	p = load_policy(file, ex_fail);
	policy_decide(p, canon, feature, d);
	return p;
}

/* The check: 0 allowed, 1 denied; -x on stdout, -v on stderr. */
static int
check(const char *file, const char *host, const char *feature, int explain)
{
	char canon[HOST_MAX + 1];
	struct policy *p;
	struct decision d;

	p = decide(file, host, feature, EX_CONFIG, canon, &d);
	if (explain)
		tell(stdout, canon, p, &d);
	if (verbose)
		tell(stderr, canon, p, &d);
	policy_free(p);
	if (out_close(stdout) == -1)
		err(EX_OSERR, "stdout");
	return d.allow ? 0 : 1;
}

/* The refusing end of the snippet: say why, never connect, exit 77. */
static void
refuse(const char *file, const char *host, const char *feature)
{
	char canon[HOST_MAX + 1], why[1024];
	struct policy *p;
	struct decision d;

	p = decide(file, host, feature, EX_NOPERM, canon, &d);
	policy_explain(&d, canon, why, sizeof(why));
	if (d.allow)
		errx(EX_NOPERM, "%s: %s: the policy check did not answer "
		    "\"allow\" when ssh asked (%s now); refusing", canon,
		    feature, why);
	if (d.by == DEC_NOFILE)
		errx(EX_NOPERM, "%s: %s denied: no config file (looked in %s)",
		    canon, feature, p->searched);
	errx(EX_NOPERM, "%s: %s denied by %s", canon, feature, why);
}

/* Every entry of tunnels: must make a complete definition. */
static void
validate_tunnels(const struct config *cf)
{
	const struct cnode *tn = cnode_get(cf->root, "tunnels");
	struct tunnel *t;
	struct sxerr e;
	size_t i;

	if (cnode_is_null(tn))
		return;
	if (tn->type != CN_MAP) {
		config_err(&e, cf->path, tn, "tunnels: want a map of names");
		errx(e.ex, "%s", e.msg);
	}
	if ((t = malloc(sizeof(*t))) == NULL)
		err(EX_OSERR, NULL);
	for (i = 0; i + 1 < tn->nkid; i += 2)
		if (tunnel_from_node(tn->kid[i]->str, cf->path,
		    tn->kid[i + 1], t, &e) == -1)
			errx(e.ex, "%s", e.msg);
	free(t);
}

/*
 * -n: the whole file parsed afresh, every section as the program that
 * reads it would (copy: roots must exist here), or 78 with file:line:col.
 */
static int
validate(const char *file)
{
	struct config *cf;
	struct policy *p;
	struct guard g;
	struct sxerr e;

	if (config_open(file, &cf, &e) == -1 || policy_load(cf, &p, &e) == -1)
		errx(e.ex, "%s", e.msg);
	if (cf->path[0] == '\0')
		errx(EX_CONFIG, "no config file (looked in %s)", cf->searched);
	validate_tunnels(cf);
	guard_init(&g);
	if (guard_config(&g, cf, 0, &e) == -1)
		errx(EX_CONFIG, "%s", e.msg);
	if (verbose)
		fprintf(stderr, "%s: valid\n", cf->path);
	policy_free(p);
	config_free(cf);
	return 0;
}

/* "host:port", "[v6]:port": split at the last colon. */
static void
split_hostport(char *arg, char **host, char **port)
{
	char *c = strrchr(arg, ':');

	if (c == NULL || c == arg || c[1] == '\0')
		errx(EX_DATAERR, "-W: expected host:port");
	*c = '\0';
	*port = c + 1;
	*host = arg;
	if (arg[0] == '[') {
		size_t n = strlen(arg);
		if (n < 3 || arg[n - 1] != ']')
			errx(EX_DATAERR, "-W: expected [address]:port");
		arg[n - 1] = '\0';
		*host = arg + 1;
	}
}

/* -W: decide, connect, then relay bytes or hand the socket to ssh. */
static int
gate(const char *file, char *hostport, const char *feature, int fdpass)
{
	char canon[HOST_MAX + 1], *host, *portstr;
	struct policy *p;
	struct decision d;
	struct sxerr e;
	int port, fd;

	split_hostport(hostport, &host, &portstr);
	if (host_canon(host, canon, sizeof(canon), &e) == -1 ||
	    host_parse_port(portstr, &port, &e) == -1)
		errx(EX_DATAERR, "%s", e.msg);
	p = load_policy(file, EX_NOPERM);
	policy_decide(p, canon, feature, &d);
	if (verbose)
		tell(stderr, canon, p, &d);
	if (!d.allow) {
		char why[1024];
		policy_explain(&d, canon, why, sizeof(why));
		errx(EX_NOPERM, "%s: %s denied by %s", canon, feature, why);
	}
	policy_free(p);
	signal(SIGPIPE, SIG_IGN);
	if (relay_connect(canon, portstr, CONNECT_TIMEOUT_MS, &fd, &e) == -1)
		errx(e.ex, "%s", e.msg);
	if (fdpass) {
		if (relay_sendfd(STDOUT_FILENO, fd, &e) == -1)
			errx(e.ex, "%s", e.msg);
		return 0;
	}
	if (relay_pump(fd, STDIN_FILENO, STDOUT_FILENO, &e) == -1)
		errx(e.ex, "%s", e.msg);
	return 0;
}

struct opts {
	const char	*file;
	const char	*feature;
	char		*hostport;
	int		 deny, fdpass, validate_only, explain;
};

static void
option(int ch, struct opts *o)
{
	switch (ch) {
	case 'd': o->deny = 1; break;
	case 'F': o->file = optarg; break;
	case 'f': o->feature = optarg; break;
	case 'n': o->validate_only = 1; break;
	case 'P': o->fdpass = 1; break;
	case 'W': o->hostport = optarg; break;
	case 'x': o->explain = 1; break;
	default:	/* -h, -V, -q, -v, or a usage error */
		out_flag(ch, "ssh-allow-check", usage, &quiet, &verbose);
	}
}

int
main(int argc, char *argv[])
{
	struct opts o = { NULL, "ssh", NULL, 0, 0, 0, 0 };
	struct sxerr e;
	int ch;

	/* ssh runs ProxyCommand and Match exec with fds we cannot trust. */
	if (out_stdfd() == -1)
		err(EX_OSERR, "/dev/null");
	verbose = out_debug_env();
	while ((ch = getopt(argc, argv, "dF:f:hnPqVvW:x")) != -1)
		option(ch, &o);
	argc -= optind;
	argv += optind;

	if (policy_valid_feature(o.feature, &e) == -1)
		errx(EX_DATAERR, "-f: %s", e.msg);
	if (o.validate_only) {
		if (argc != 0 || o.deny || o.fdpass || o.hostport || o.explain)
			usage(stderr, EX_USAGE);
		return validate(o.file);
	}
	if (o.hostport != NULL) {
		if (argc != 0 || o.deny || o.explain)
			usage(stderr, EX_USAGE);
		return gate(o.file, o.hostport, o.feature, o.fdpass);
	}
	if (argc != 1 || o.fdpass)
		usage(stderr, EX_USAGE);
	if (o.deny)
		refuse(o.file, argv[0], o.feature);
	return check(o.file, argv[0], o.feature, o.explain);
}
