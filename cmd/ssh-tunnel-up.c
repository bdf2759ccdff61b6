/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * ssh-tunnel-up: define a tunnel and bring it up through a backend; with
 * -f, be the supervisor that keeps its ssh running.
 */
#include <err.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "host.h"
#include "lifecycle.h"
#include "notify.h"
#include "out.h"
#include "tunnel.h"

static int journal, quiet, verbose;
static const char *cfgfile;

static void __attribute__((noreturn))
usage(FILE *fp, int ex)
{
	fprintf(fp,
	    "usage: ssh-tunnel-up [-Knqv] [-F config] [-b bastion] [-s key] "
	    "[-p remote_port]\n"
	    "                     [-l local_host:local_port] [-m backend] "
	    "[-o ssh_option] [name]\n"
	    "       ssh-tunnel-up [-nqv] [-F config] [-b bastion] [-s key] "
	    "[-p remote_port]\n"
	    "                     [-l [bind:]port] [-m backend] "
	    "[-o ssh_option] --discovery file\n"
	    "                     [name]\n"
	    "       ssh-tunnel-up -a [-qv] [-F config] [-m backend]\n"
	    "       ssh-tunnel-up -f [-v] [-F config] name\n"
	    "       ssh-tunnel-up [-qv] [-m backend] --adopt port [name]\n");
	exit(out_usage_status(fp, ex));
}

/*
 * How the library starts a supervisor: this very program, with -f. Its
 * path kept on the heap, early and small: a static PATH_MAX buffer would
 * be a page of every supervisor's private memory for 60 bytes.
 */
static void
ctx(struct lc_ctx *c)
{
	static char *self;	/* for the program's life */
	char buf[PATH_MAX];
	ssize_t n;

	if (self == NULL) {
		if ((n = readlink("/proc/self/exe", buf, sizeof(buf) - 1)) ==
		    -1)
			err(EX_OSERR, "/proc/self/exe");
		buf[n] = '\0';
		if ((self = strdup(buf)) == NULL)
			err(EX_OSERR, "strdup");
	}
	memset(c, 0, sizeof(*c));
	c->config = cfgfile;
	c->self = self;
	c->quiet = quiet;
	c->verbose = verbose;
	c->note = out_note;	/* what the library says along the way */
}

/* lc_setup's answer as an exit status; 1: not up yet. */
static int
started(int rc, const struct sxerr *e)
{
	if (rc == -1)
		errx(e->ex, "%s", e->msg);
	if (out_close(stdout) == -1)
		err(EX_OSERR, "stdout");
	if (rc == 1) {
		warnx("%s", e->msg);
		return e->ex;
	}
	return 0;
}

/*
 * The supervisor's messages: state changes always, ssh's lines with -v
 * (lc_say keeps those back without it).
 */
static void
sv_note(void *arg, int level, const char *msg)
{
	char ts[32];
	time_t now;

	if (journal) {	/* the journal has name, pid and time already */
		fprintf(stderr, "%s\n", msg);
		return;
	}
	now = time(NULL);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", localtime(&now));
	fprintf(stderr, "%s %s[%ld]: %s\n", ts, getprogname(),
	    (long)getpid(), msg);
}

/* -f: the supervisor in the foreground, until SIGTERM or SIGINT. */
#define SV_LINE	1024

static int
supervise(const char *name)
{
	static char *linebuf;	/* stderr's, for the program's life */
	struct lc_ctx c;
	struct sxerr e;

	ctx(&c);
	if ((linebuf = malloc(SV_LINE)) == NULL)
		err(EX_OSERR, "malloc");
	c.quiet = 0;	/* state changes are said even with -q */
	c.note = sv_note;
	journal = notify_journal();
	/*
	 * A line at a time, from a buffer of ours: unbuffered, glibc formats
	 * each message through 8 KiB of stack, which an idle supervisor then
	 * keeps as private memory. On the heap, early: in a page with the
	 * rest of what the supervisor keeps, not one of its own.
	 */
	setvbuf(stderr, linebuf, _IOLBF, SV_LINE);
	if (lc_supervise(&c, name, &e) == -1) {
		if (!journal)
			errx(e.ex, "%s", e.msg);
		fprintf(stderr, "%s\n", e.msg);
		exit(e.ex);
	}
	return out_close(stdout) == -1 ? EX_OSERR : 0;
}

/* --adopt PORT [name]: take over scitex-ssh 1.0's unit of PORT. */
static int
adopt(const char *portarg, const struct lc_req *q)
{
	struct lc_ctx c;
	struct sxerr e;
	int port;

	if (host_parse_port(portarg, &port, &e) == -1)
		errx(e.ex, "--adopt: %s", e.msg);
	ctx(&c);
	if (lc_adopt(&c, q, port, stdout, &e) == -1)
		errx(e.ex, "%s", e.msg);
	return out_close(stdout) == -1 ? EX_OSERR : 0;
}

/*
 * -K: the authorized_keys line for the bastion's tunnel account, then the
 * sshd_config block it needs (as # comments never taken for a key). Without
 * a name, -p or -b it falls back on the host name like the rest; when no
 * tunnel has that name, say what -K needs rather than "no such tunnel".
 */
static int
authorized_keys(const struct lc_req *q, int named)
{
	/* On the heap: static, these 39 KiB of bss would push the globals
	 * every supervisor writes into pages of their own. */
	static struct authkeys {
		struct tunnel	t;
		char		line[20000], block[2048];
	} *k;		/* static: still reachable when errx() exits */
	const struct backend *b;
	struct config *cf;
	struct sxerr e;

	if ((k = malloc(sizeof(*k))) == NULL)
		err(EX_OSERR, "malloc");
	if (lc_tunnel(q, cfgfile, &cf, &k->t, &b, &e) == -1) {
		if (e.ex == 1 && !named && q->nbastion == 0 && q->port == NULL)
			errx(EX_USAGE, "-K needs a defined tunnel's name, or "
			    "-p and -b (no tunnel is named %s, this host's "
			    "name)", q->name);
		errx(e.ex, "%s", e.msg);
	}
	config_free(cf);
	if (tunnel_authkeys(&k->t, k->line, sizeof(k->line), &e) == -1 ||
	    tunnel_sshd_match(&k->t, k->block, sizeof(k->block), &e) == -1)
		errx(e.ex, "%s", e.msg);
	printf("%s# and in the bastion's sshd_config (no key option "
	    "refuses unix-socket forwarding):\n%s", k->line, k->block);
	free(k);
	k = NULL;
	return out_close(stdout) == -1 ? EX_OSERR : 0;
}

/* What the flags ask for besides the tunnel: which mode. */
struct mode {
	const char	*adoptport;	/* --adopt */
	int		 all;		/* -a */
	int		 fg;		/* -f */
	int		 authkeys;	/* -K */
};

/*
 * -a: every defined tunnel; no operand, none of the flags that define
 * one. Each that is not up has said why; the worst status is ours.
 */
static int
up_all(int argc, const struct lc_req *q, const struct mode *m)
{
	struct lc_ctx c;
	struct sxerr e;
	int rc;

	if (argc > 0 || m->fg || m->authkeys || m->adoptport != NULL ||
	    q->dry || q->nbastion || q->port || q->key || q->local || q->nopt ||
	    q->discovery)
		usage(stderr, EX_USAGE);
	ctx(&c);
	if ((rc = lc_setup_all(&c, q->backend, &e)) == -1)
		errx(e.ex, "%s", e.msg);
	if (out_close(stdout) == -1)
		err(EX_OSERR, "stdout");
	return rc;
}

static void
option(int ch, struct lc_req *q, struct mode *m)
{
	switch (ch) {
	case 'A': m->adoptport = optarg; break;
	case 'a': m->all = 1; break;
	case 'D': q->discovery = optarg; break;
	case 'b':
		if (q->nbastion >= TUN_BASTION_MAX)
			errx(EX_USAGE, "-b: at most %d bastions",
			    TUN_BASTION_MAX);
		q->bastion[q->nbastion++] = optarg;
		break;
	case 'F': cfgfile = optarg; break;
	case 'f': m->fg = 1; break;
	case 'K': m->authkeys = 1; break;
	case 'l': q->local = optarg; break;
	case 'm': q->backend = optarg; break;
	case 'n': q->dry = 1; break;
	case 'o':
		if (q->nopt >= TUN_OPT_MAX)
			errx(EX_USAGE, "-o: at most %d options", TUN_OPT_MAX);
		q->opt[q->nopt++] = optarg;
		break;
	case 'p': q->port = optarg; break;
	case 's': q->key = optarg; break;
	default:	/* -h, -V, -q, -v, or a usage error */
		out_flag(ch, "ssh-tunnel-up", usage, &quiet, &verbose);
		q->quiet = quiet;	/* the library's -q too */
	}
}

/* The operand, else the short host name (not for -f); validated. */
static void
tunnel_name(int argc, char *argv[], int fg, char *name, size_t sz)
{
	struct sxerr e;

	if (argc > 1 || (argc == 0 && fg))
		usage(stderr, EX_USAGE);
	if (argc == 1) {
		if (tunnel_valid_name(argv[0], &e) == -1)
			errx(e.ex, "%s", e.msg);
		strlcpy(name, argv[0], sz);
		return;
	}
	if (lc_default_name(name, sz, &e) == -1)
		errx(e.ex, "%s", e.msg);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "adopt", required_argument, NULL, 'A' },
		{ "discovery", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 }
	};
	char name[NAME_MAX_LEN + 1];
	struct mode m = { NULL, 0, 0, 0 };
	struct lc_req q;
	struct lc_ctx c;
	struct sxerr e;
	int ch, defining;

	memset(&q, 0, sizeof(q));
	verbose = out_debug_env();
	while ((ch = getopt_long(argc, argv, "ab:F:fhKl:m:no:p:qs:Vv", longopts,
	    NULL)) != -1)
		option(ch, &q, &m);
	argc -= optind;
	argv += optind;
	if (m.all)
		return up_all(argc, &q, &m);
	tunnel_name(argc, argv, m.fg, name, sizeof(name));
	q.name = name;

	defining = q.dry || m.authkeys || q.nbastion || q.port || q.key ||
	    q.local || q.nopt || q.discovery;
	if (m.adoptport != NULL) {
		if (m.fg || defining)
			usage(stderr, EX_USAGE);
		return adopt(m.adoptport, &q);
	}
	if (m.fg) {
		if (defining || q.backend)
			usage(stderr, EX_USAGE);
		return supervise(name);
	}
	if (m.authkeys)
		return authorized_keys(&q, argc == 1);
	ctx(&c);
	return started(lc_setup(&c, &q, stdout, &e), &e);
}
