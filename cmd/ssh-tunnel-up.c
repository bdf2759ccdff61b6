/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * ssh-tunnel-up: define a tunnel and bring it up through a backend; with
 * -f, be the supervisor that keeps its ssh running.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "host.h"
#include "legacy.h"
#include "lifecycle.h"
#include "out.h"
#include "state.h"
#include "supervise.h"
#include "sysd.h"
#include "tunnel.h"

static int quiet, verbose;
static const char *cfgfile;

static void
usage(FILE *fp, int ex)
{
	fprintf(fp,
	    "usage: ssh-tunnel-up [-Knqv] [-F config] [-b bastion] [-s key] "
	    "[-p remote_port]\n"
	    "                     [-l local_host:local_port] [-m backend] "
	    "[-o ssh_option] [name]\n"
	    "       ssh-tunnel-up -f [-v] [-F config] name\n"
	    "       ssh-tunnel-up [-qv] [-m backend] --adopt port [name]\n");
	exit(ex);
}

static struct config *
open_config(void)
{
	struct config *cf;
	struct sxerr e;

	if (config_open(cfgfile, &cf, &e) == -1)
		errx(e.ex, "%s", e.msg);
	return cf;
}

/* The short local host name: the default tunnel name. */
static void
short_hostname(char *buf, size_t sz)
{
	char h[HOST_MAX + 1];

	if (gethostname(h, sizeof(h)) == -1)
		err(EX_OSERR, "gethostname");
	h[sizeof(h) - 1] = '\0';
	h[strcspn(h, ".")] = '\0';
	strlcpy(buf, h, sz);
}

/* What the library says along the way, as warnings. */
static void
note(void *arg, int level, const char *msg)
{
	if ((level == LC_INFO && quiet) || (level == LC_DEBUG && !verbose))
		return;
	warnx("%s", msg);
}

/* How the library starts a supervisor: this very program, with -f. */
static void
ctx(struct lc_ctx *c)
{
	static char self[PATH_MAX];
	ssize_t n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1)
		err(EX_OSERR, "/proc/self/exe");
	self[n] = '\0';
	memset(c, 0, sizeof(*c));
	c->config = cfgfile;
	c->self = self;
	c->verbose = verbose;
	c->note = note;
}

/* lc_start's or lc_setup's answer as an exit status; 1: not up yet. */
static int
started(int rc, const struct sxerr *e)
{
	if (rc == -1)
		errx(e->ex, "%s", e->msg);
	if (rc == 1) {
		warnx("%s", e->msg);
		return e->ex;
	}
	return out_close(stdout) == -1 ? EX_OSERR : 0;
}

/* The supervisor's messages: state changes always, ssh's lines with -v. */
static void
sv_log(void *arg, int level, const char *msg)
{
	const char *name = arg;
	char ts[32];
	time_t now;

	if (level > verbose)
		return;
	now = time(NULL);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", localtime(&now));
	fprintf(stderr, "%s %s[%ld]: %s: %s\n", ts, getprogname(),
	    (long)getpid(), name, msg);
}

static int
sv_reload(void *arg, struct tunnel *t, struct sxerr *e)
{
	struct config *cf;
	struct tref r;
	int rc;

	if (config_open(cfgfile, &cf, e) == -1)
		return -1;
	if ((rc = backend_lookup(cf, arg, &r, e)) == 1)
		sxerr_set(e, EX_CONFIG, "%s: no longer defined", (char *)arg);
	if (rc == 0 && (rc = backend_load(cf, &r, t, e)) == 0)
		rc = tunnel_check_key(t, e);
	config_free(cf);
	return rc == 0 ? 0 : -1;
}

/*
 * The lock handed over by the ssh-tunnel-up that started us (fd 3), or
 * our own. Exits when another supervisor holds it.
 */
static int
take_lock(const char *path, const char *name)
{
	struct stat a, b;
	struct sxerr e;
	pid_t pid;
	int fd, rc;

	if (fstat(3, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino && flock(3, LOCK_EX | LOCK_NB) == 0) {
		if (fcntl(3, F_SETFD, FD_CLOEXEC) == -1)
			err(EX_OSERR, "fcntl");
		return 3;
	}
	if ((rc = state_lock(path, &fd, &e)) == -1)
		errx(e.ex, "%s", e.msg);
	if (rc == 1) {
		char pidpath[STATE_PATH];

		strlcpy(pidpath, path, sizeof(pidpath));
		pidpath[strlen(pidpath) - 5] = '\0';
		strlcat(pidpath, ".pid", sizeof(pidpath));
		state_pidfile_proven(pidpath, SUPERVISOR_COMM, &pid);
		errx(1, "%s: already supervised (pid %ld)", name, (long)pid);
	}
	return fd;
}

/* -f: the supervisor in the foreground, until SIGTERM or SIGINT. */
static int
supervise(const char *name)
{
	static struct tunnel t;
	char lock[STATE_PATH], pidf[STATE_PATH], statef[STATE_PATH];
	struct sv_hooks h = { sv_reload, sv_log, (void *)name };
	struct config *cf;
	struct tref r;
	struct sxerr e;
	int rc, fd;

	cf = open_config();
	if ((rc = backend_lookup(cf, name, &r, &e)) == -1)
		errx(e.ex, "%s", e.msg);
	if (rc == 1)
		errx(EX_CONFIG, "%s: no such tunnel (not in %s nor in "
		    "tunnels.d)", name, cf->path[0] ? cf->path :
		    "a config file");
	if (backend_load(cf, &r, &t, &e) == -1 ||
	    tunnel_check_key(&t, &e) == -1)
		errx(e.ex, "%s", e.msg);
	config_free(cf);
	if (state_mkdir(r.pl.state, &e) == -1)
		errx(e.ex, "%s", e.msg);
	if (state_path(lock, sizeof(lock), r.pl.state, name, ".lock") == -1 ||
	    state_path(pidf, sizeof(pidf), r.pl.state, name, ".pid") == -1 ||
	    state_path(statef, sizeof(statef), r.pl.state, name,
	    ".state") == -1)
		errx(EX_OSERR, "%s: path too long", r.pl.state);
	fd = take_lock(lock, name);
	if (state_pidfile_write(pidf, getpid(), &e) == -1)
		errx(e.ex, "%s", e.msg);
	sv_log((void *)name, 0, "supervising");
	rc = supervise_run(&t, lc_ssh_bin(), statef, &h, &e);
	(void)unlink(pidf);
	close(fd);
	if (rc == -1)
		errx(e.ex, "%s", e.msg);
	sv_log((void *)name, 0, "stopped");
	return 0;
}

/*
 * --adopt PORT [name]: take over scitex-ssh 1.0's autossh-tunnel-PORT.service
 * (branch systemd). The old unit is stopped so that the new tunnel can
 * bind the port, and removed only once the new tunnel is up; otherwise the
 * new one is taken down again and the old one started again, also when we
 * exit on an error on the way (atexit).
 */
static struct legacy adopting;
static int adopt_done;

static void
adopt_undo(void)
{
	if (!adopt_done)
		(void)sysd_legacy_stop(&adopting, 1, NULL);
}

static int
adopt(const char *portarg, const char *name, const char *mflag)
{
	static struct tunnel t;
	const struct backend *b;
	struct lc_ctx c;
	struct places pl;
	struct config *cf;
	struct sxerr e;
	struct tref r;
	char bastion[300];
	int port, rc;

	if (host_parse_port(portarg, &port, &e) == -1)
		errx(e.ex, "--adopt: %s", e.msg);
	if (legacy_find(port, &adopting, &e) == -1)
		errx(e.ex, "--adopt: %s", e.msg);
	if (legacy_tunnel(&adopting, name, &t, &e) == -1)
		errx(e.ex, "--adopt: %s", e.msg);
	cf = open_config();
	if ((rc = backend_lookup(cf, name, &r, &e)) == -1)
		errx(e.ex, "%s", e.msg);
	if (rc == 0)
		errx(1, "--adopt: a tunnel named %s exists already; name the "
		    "new one: ssh-tunnel-up --adopt %d NAME", name, port);
	if ((b = lc_backend(mflag, NULL, &e)) == NULL ||
	    b->places(&pl, &e) == -1 || lc_gate(cf, &e) == -1 ||
	    tunnel_check_key(&t, &e) == -1)
		errx(e.ex, "%s", e.msg);
	config_free(cf);
	if (sysd_legacy_stop(&adopting, 0, &e) == -1)
		errx(e.ex, "--adopt: %s", e.msg);
	atexit(adopt_undo);
	ctx(&c);
	rc = lc_start(&c, &t, 1, b, &pl, bastion, sizeof(bastion), &e);
	if (rc == -1)
		errx(e.ex, "%s", e.msg);
	if (rc == 1) {
		warnx("%s", e.msg);
		warnx("%s: not up: taken down again; %s is kept", name,
		    adopting.path);
		(void)b->stop(&pl, name, &e);
		if (state_path(r.path, sizeof(r.path), pl.defs, name,
		    ".yaml") == 0)
			(void)unlink(r.path);
		return EX_UNAVAILABLE;
	}
	if (!quiet && lc_block(stdout, &t, bastion, &e) == -1)
		errx(e.ex, "%s", e.msg);
	adopt_done = 1;
	if (sysd_legacy_remove(&adopting, &e) == -1)
		errx(e.ex, "%s: up, but the old unit stays: %s", name, e.msg);
	if (!quiet)
		warnx("%s: adopted %s (removed)", name, adopting.path);
	return 0;
}

/*
 * -K: the authorized_keys line for the bastion's tunnel account. Without
 * a name, -p or -b it falls back on the host name like the rest; when no
 * tunnel has that name, say what -K needs rather than "no such tunnel".
 */
static int
authorized_keys(const struct lc_req *q, int named)
{
	static struct tunnel t;
	static char line[20000];
	const struct backend *b;
	struct config *cf;
	struct sxerr e;

	if (lc_tunnel(q, cfgfile, &cf, &t, &b, &e) == -1) {
		if (e.ex == 1 && !named && q->nbastion == 0 && q->port == NULL)
			errx(EX_USAGE, "-K needs a defined tunnel's name, or "
			    "-p and -b (no tunnel is named %s, this host's "
			    "name)", q->name);
		errx(e.ex, "%s", e.msg);
	}
	config_free(cf);
	if (tunnel_authkeys(&t, line, sizeof(line), &e) == -1)
		errx(e.ex, "%s", e.msg);
	fputs(line, stdout);
	return out_close(stdout) == -1 ? EX_OSERR : 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "adopt", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 }
	};
	struct lc_req q;
	struct lc_ctx c;
	char name[NAME_MAX_LEN + 1];
	const char *adoptport = NULL;
	struct sxerr e;
	int ch, fg = 0, authkeys = 0;

	memset(&q, 0, sizeof(q));
	verbose = out_debug_env();
	while ((ch = getopt_long(argc, argv, "F:KVb:fhl:m:no:p:qs:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'A':
			adoptport = optarg;
			break;
		case 'F':
			cfgfile = optarg;
			break;
		case 'K':
			authkeys = 1;
			break;
		case 'V':
			printf("ssh-tunnel-up scitex-ssh %s\n", VERSION);
			return out_close(stdout) == -1 ? EX_OSERR : 0;
		case 'b':
			if (q.nbastion >= TUN_BASTION_MAX)
				errx(EX_USAGE, "-b: at most %d bastions",
				    TUN_BASTION_MAX);
			q.bastion[q.nbastion++] = optarg;
			break;
		case 'f':
			fg = 1;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'l':
			q.local = optarg;
			break;
		case 'm':
			q.backend = optarg;
			break;
		case 'n':
			q.dry = 1;
			break;
		case 'o':
			if (q.nopt >= TUN_OPT_MAX)
				errx(EX_USAGE, "-o: at most %d options",
				    TUN_OPT_MAX);
			q.opt[q.nopt++] = optarg;
			break;
		case 'p':
			q.port = optarg;
			break;
		case 'q':
			quiet = q.quiet = 1;
			verbose = 0;
			break;
		case 's':
			q.key = optarg;
			break;
		case 'v':
			verbose = 1;
			quiet = q.quiet = 0;
			break;
		case '?':
		default:
			usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;

	if (argc > 1)
		usage(stderr, EX_USAGE);
	if (argc == 1)
		strlcpy(name, argv[0], sizeof(name));
	else if (fg)
		usage(stderr, EX_USAGE);
	else
		short_hostname(name, sizeof(name));
	if (host_valid_name(argc == 1 ? argv[0] : name, &e) == -1)
		errx(e.ex, "%s", e.msg);
	if (adoptport != NULL) {
		if (fg || q.dry || authkeys || q.nbastion || q.port || q.key ||
		    q.local || q.nopt)
			usage(stderr, EX_USAGE);
		return adopt(adoptport, name, q.backend);
	}
	if (fg) {
		if (q.dry || authkeys || q.nbastion || q.port || q.key ||
		    q.local || q.nopt || q.backend)
			usage(stderr, EX_USAGE);
		return supervise(name);
	}

	q.name = name;
	if (authkeys)
		return authorized_keys(&q, argc == 1);
	ctx(&c);
	return started(lc_setup(&c, &q, stdout, &e), &e);
}
