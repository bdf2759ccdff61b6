/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * ssh-tunnel-up: define a tunnel and bring it up through a backend; with
 * -f, be the supervisor that keeps its ssh running.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "host.h"
#include "legacy.h"
#include "out.h"
#include "policy.h"
#include "state.h"
#include "supervise.h"
#include "sysd.h"
#include "tunnel.h"

#define WAIT_UP_MS	((TUN_CONNECT_TIMEOUT + 5) * 1000)

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

/*
 * Feature "tunnels" for the local host name, as scitex-ssh 1.0 asked. A
 * denial says which file to edit and what to put there.
 */
static void
gate(const struct config *cf)
{
	char h[HOST_MAX + 1], host[HOST_MAX + 1], why[1024], dflt[4096];
	struct policy *p;
	struct decision d;
	struct sxerr e;

	if (policy_load(cf, &p, &e) == -1)
		errx(e.ex, "%s", e.msg);
	if (gethostname(h, sizeof(h)) == -1)
		err(EX_OSERR, "gethostname");
	h[sizeof(h) - 1] = '\0';
	if (host_canon(h, host, sizeof(host), &e) == -1)
		errx(EX_NOPERM, "local host name: %s", e.msg);
	policy_decide(p, host, "tunnels", &d);
	if (d.allow) {
		policy_free(p);
		return;
	}
	policy_explain(&d, host, why, sizeof(why));
	if (d.by == DEC_NOFILE) {
		if (config_default_path(dflt, sizeof(dflt)) == -1)
			strlcpy(dflt, "~/.config/scitex-ssh/config.yaml",
			    sizeof(dflt));
		errx(EX_NOPERM, "tunnels from %s: denied: no config file "
		    "(looked in %s); to allow, create %s with:\n"
		    "hosts:\n  %s: {tunnels: allow}", host, p->searched, dflt,
		    host);
	}
	errx(EX_NOPERM, "tunnels from %s: denied by %s; to allow, add first "
	    "under hosts: in %s:\n  %s: {tunnels: allow}", host, why,
	    d.path, host);
}

/* An absolute key path: ~/... is kept for the definition to expand. */
static void
key_arg(const char *s, char *buf, size_t sz)
{
	char cwd[PATH_MAX];

	if (s[0] == '/' || (s[0] == '~' && s[1] == '/')) {
		if (strlcpy(buf, s, sz) >= sz)
			errx(EX_DATAERR, "-s: path too long");
		return;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		err(EX_OSERR, "getcwd");
	if ((size_t)snprintf(buf, sz, "%s/%s", cwd, s) >= sz)
		errx(EX_DATAERR, "-s: path too long");
}

struct opts {
	const char	*bastion[TUN_BASTION_MAX];
	size_t		 nbastion;
	const char	*key;
	const char	*port;
	const char	*local;
	const char	*opt[TUN_OPT_MAX];
	size_t		 nopt;
};

/* A new definition from the flags and the environment; exits when bad. */
static void
define(struct tunnel *t, const char *name, const struct opts *o)
{
	char spec[600], key[TUN_PATH_MAX];
	const char *env;
	struct sxerr e;
	int port;
	size_t i;

	tunnel_init(t, name);
	for (i = 0; i < o->nbastion; i++)
		if (host_parse_bastion(o->bastion[i], &t->bastion[i], &e) == -1)
			errx(e.ex, "-b: %s", e.msg);
	t->nbastion = o->nbastion;
	if (t->nbastion == 0 &&
	    (env = getenv("SCITEX_SSH_BASTION_SERVER")) != NULL && *env) {
		if (host_parse_bastion(env, &t->bastion[0], &e) == -1)
			errx(e.ex, "SCITEX_SSH_BASTION_SERVER: %s", e.msg);
		t->nbastion = 1;
	}
	if (t->nbastion == 0)
		errx(EX_USAGE, "%s: no bastion: give -b or set "
		    "SCITEX_SSH_BASTION_SERVER", name);
	if (o->port == NULL)
		errx(EX_USAGE, "%s: no remote port: give -p", name);
	if (host_parse_port(o->port, &port, &e) == -1)
		errx(e.ex, "-p: %s", e.msg);
	if (o->local != NULL && !host_is_clean(o->local))
		errx(EX_DATAERR, "-l: control characters");
	snprintf(spec, sizeof(spec), "R %d:%.500s", port,
	    o->local != NULL ? o->local : "localhost:22");
	if (tunnel_parse_forward(spec, &t->fwd[0], &e) == -1 ||
	    t->fwd[0].bind[0] != '\0')
		errx(EX_DATAERR, "-l: %.200s: want local_host:local_port%s%s",
		    o->local, e.msg[0] ? ": " : "", e.msg);
	t->nfwd = 1;
	if ((env = o->key) != NULL ||
	    ((env = getenv("SCITEX_SSH_SECRET_KEY_PATH")) != NULL && *env)) {
		key_arg(env, key, sizeof(key));
		if (tunnel_valid_key(key, &e) == -1)
			errx(e.ex, "%s", e.msg);
		strlcpy(t->key, key, sizeof(t->key));
	}
	for (i = 0; i < o->nopt; i++) {
		if (tunnel_valid_option(o->opt[i], &e) == -1)
			errx(e.ex, "-o: %s", e.msg);
		strlcpy(t->opt[i], o->opt[i], TUN_OPT_LEN);
	}
	t->nopt = o->nopt;
}

static const char *
ssh_bin(void)
{
	const char *s = getenv("SCITEX_SSH_SSH");

	return s != NULL && *s != '\0' ? s : "ssh";
}

static void
print_argv(const struct sshargv *a)
{
	size_t i;

	for (i = 0; i < a->argc; i++)
		printf("%s%s", i ? " " : "", a->argv[i]);
	putchar('\n');
}

/* -n: the definition, the unit and the exact argv; nothing changes. */
static int
dry_run(const struct tunnel *t, const struct backend *b,
    const struct places *pl)
{
	static char buf[65536];
	static struct sshargv a;
	struct sxerr e;
	size_t i;

	if (tunnel_yaml(t, buf, sizeof(buf), &e) == -1)
		errx(e.ex, "%s", e.msg);
	printf("# %s/%s.yaml\n%s", pl->defs, t->name, buf);
	if (b->unit == NULL)
		printf("# backend %s: no unit\n", b->name);
	else if (b->unit(t, buf, sizeof(buf), &e) == -1)
		errx(e.ex, "%s", e.msg);
	else
		printf("# backend %s: unit\n%s", b->name, buf);
	for (i = 0; i < t->nbastion; i++) {
		if (tunnel_argv(t, i, ssh_bin(), &a, &e) == -1)
			errx(e.ex, "%s", e.msg);
		printf("# ssh, bastion %zu of %zu\n", i + 1, t->nbastion);
		print_argv(&a);
	}
	return out_close(stdout) == -1 ? EX_OSERR : 0;
}

static void
print_block(const struct tunnel *t, const char *bastion)
{
	char buf[2048], b[512];
	struct sxerr e;
	size_t i, bi = 0;

	if (quiet || tunnel_first_remote(t) == NULL)
		return;
	for (i = 0; i < t->nbastion; i++)
		if (host_fmt_bastion(&t->bastion[i], b, sizeof(b)) == 0 &&
		    strcmp(b, bastion) == 0)
			bi = i;
	if (tunnel_client_block(t, bi, buf, sizeof(buf), &e) == -1)
		errx(e.ex, "%s", e.msg);
	fputs(buf, stdout);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * Wait until the supervisor confirms the forward (0) or reports a first
 * failure (69, it keeps trying), in an attempt numbered min_restarts or
 * later; a supervisor of ours that exits early passes its status on.
 */
static int
wait_up(const struct tunnel *t, const struct places *pl, pid_t child,
    unsigned min_restarts)
{
	char path[STATE_PATH];
	struct tstate st;
	struct sxerr e;
	int i, status;

	if (state_path(path, sizeof(path), pl->state, t->name, ".state") == -1)
		errx(EX_OSERR, "state path too long");
	for (i = 0; i < WAIT_UP_MS / 50; i++) {
		if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
			if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
				errx(WEXITSTATUS(status), "%s: the supervisor "
				    "exited; see %s/%s.log", t->name,
				    pl->state, t->name);
			errx(EX_OSERR, "%s: the supervisor died; see "
			    "%s/%s.log", t->name, pl->state, t->name);
		}
		if (state_read(path, &st, &e) == 0 &&
		    st.restarts >= min_restarts) {
			if (strcmp(st.state, "up") == 0) {
				print_block(t, st.bastion);
				return out_close(stdout) == -1 ? EX_OSERR : 0;
			}
			if (strcmp(st.state, "backoff") == 0) {
				warnx("%s: not up yet (%s via %s); the "
				    "supervisor (pid %ld) keeps trying; see "
				    "ssh-tunnel-ls", t->name, st.reason,
				    st.bastion, (long)st.pid);
				return EX_UNAVAILABLE;
			}
		}
		sleep_ms(50);
	}
	warnx("%s: not confirmed up after %d s; the supervisor keeps trying",
	    t->name, WAIT_UP_MS / 1000);
	return EX_UNAVAILABLE;
}

static void
write_def(const struct tunnel *t, const struct places *pl)
{
	static char buf[65536];
	char path[STATE_PATH];
	struct sxerr e;

	if (tunnel_yaml(t, buf, sizeof(buf), &e) == -1)
		errx(e.ex, "%s", e.msg);
	if (state_mkdir(pl->defs, &e) == -1)
		errx(e.ex, "%s", e.msg);
	if (state_path(path, sizeof(path), pl->defs, t->name, ".yaml") == -1)
		errx(EX_OSERR, "%s: path too long", pl->defs);
	if (state_write_file(path, buf, strlen(buf), 0600, &e) == -1)
		errx(e.ex, "%s", e.msg);
}

/* Bring the tunnel up (or reload a running one) through backend b. */
static int
start(const struct tunnel *t, int defining, const struct backend *b,
    const struct places *pl)
{
	char path[STATE_PATH], self[PATH_MAX];
	struct bstart bs;
	struct tstate st;
	struct sxerr e;
	pid_t pid;
	ssize_t n;
	int fd, rc;

	if (state_mkdir(pl->state, &e) == -1)
		errx(e.ex, "%s", e.msg);
	if (state_path(path, sizeof(path), pl->state, t->name, ".lock") == -1)
		errx(EX_OSERR, "%s: path too long", pl->state);
	if ((rc = state_lock(path, &fd, &e)) == -1)
		errx(e.ex, "%s", e.msg);
	if (rc == 1) {
		/* The supervisor holds the lock for as long as it runs. */
		if (!backend_supervisor(pl, t->name, &pid))
			errx(1, "%s: another ssh-tunnel-up or ssh-tunnel-down "
			    "is at work on this tunnel", t->name);
		if (!defining) {
			if (!quiet)
				warnx("%s: already running (pid %ld)", t->name,
				    (long)pid);
			return wait_up(t, pl, 0, 0);
		}
		if (state_path(path, sizeof(path), pl->state, t->name,
		    ".state") == -1 || state_read(path, &st, &e) == -1)
			memset(&st, 0, sizeof(st));
		write_def(t, pl);
		if (kill(pid, SIGHUP) == -1)
			err(EX_OSERR, "kill %ld", (long)pid);
		return wait_up(t, pl, 0, st.restarts + 1);
	}
	if (defining)
		write_def(t, pl);
	if (state_path(path, sizeof(path), pl->state, t->name, ".state") == 0)
		(void)unlink(path);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1)
		err(EX_OSERR, "/proc/self/exe");
	self[n] = '\0';
	memset(&bs, 0, sizeof(bs));
	bs.name = t->name;
	bs.self = self;
	bs.config = cfgfile;
	bs.verbose = verbose;
	bs.lockfd = fd;
	bs.pl = pl;
	bs.t = t;
	if (b->start(&bs, &e) == -1)
		errx(e.ex, "%s: backend %s: %s", t->name, b->name, e.msg);
	if (bs.note[0] != '\0' && !quiet)
		warnx("%s", bs.note);
	close(fd);
	return wait_up(t, pl, bs.pid, 0);
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
	rc = supervise_run(&t, ssh_bin(), statef, &h, &e);
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
	struct places pl;
	struct config *cf;
	struct sxerr e;
	struct tref r;
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
	if (mflag != NULL) {
		if ((b = backend_find(mflag, &e)) == NULL)
			errx(e.ex, "-m: %s", e.msg);
		if (b->available(&e) == -1)
			errx(e.ex, "backend %s: %s", b->name, e.msg);
	} else if ((b = backend_pick(&e)) == NULL)
		errx(e.ex, "no backend works here: %s", e.msg);
	if (b->places(&pl, &e) == -1)
		errx(e.ex, "%s", e.msg);
	gate(cf);
	if (tunnel_check_key(&t, &e) == -1)
		errx(e.ex, "%s", e.msg);
	config_free(cf);
	if (sysd_legacy_stop(&adopting, 0, &e) == -1)
		errx(e.ex, "--adopt: %s", e.msg);
	atexit(adopt_undo);
	if ((rc = start(&t, 1, b, &pl)) != 0) {
		warnx("%s: not up: taken down again; %s is kept", name,
		    adopting.path);
		(void)b->stop(&pl, name, &e);
		if (state_path(r.path, sizeof(r.path), pl.defs, name,
		    ".yaml") == 0)
			(void)unlink(r.path);
		return rc;
	}
	adopt_done = 1;
	if (sysd_legacy_remove(&adopting, &e) == -1)
		errx(e.ex, "%s: up, but the old unit stays: %s", name, e.msg);
	if (!quiet)
		warnx("%s: adopted %s (removed)", name, adopting.path);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "adopt", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 }
	};
	static struct tunnel t;
	struct opts o;
	char name[NAME_MAX_LEN + 1], *dbg;
	const char *mflag = NULL, *adoptport = NULL;
	const struct backend *b;
	struct places pl;
	static struct config *cf;	/* reachable at exit(3) */
	struct tref r;
	struct sxerr e;
	int ch, fg = 0, dry = 0, authkeys = 0, defining, rc;

	memset(&o, 0, sizeof(o));
	if ((dbg = getenv("SCITEX_SSH_DEBUG_MODE")) != NULL &&
	    strcmp(dbg, "1") == 0)
		verbose = 1;
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
			if (o.nbastion >= TUN_BASTION_MAX)
				errx(EX_USAGE, "-b: at most %d bastions",
				    TUN_BASTION_MAX);
			o.bastion[o.nbastion++] = optarg;
			break;
		case 'f':
			fg = 1;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'l':
			o.local = optarg;
			break;
		case 'm':
			mflag = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		case 'o':
			if (o.nopt >= TUN_OPT_MAX)
				errx(EX_USAGE, "-o: at most %d options",
				    TUN_OPT_MAX);
			o.opt[o.nopt++] = optarg;
			break;
		case 'p':
			o.port = optarg;
			break;
		case 'q':
			quiet = 1;
			verbose = 0;
			break;
		case 's':
			o.key = optarg;
			break;
		case 'v':
			verbose = 1;
			quiet = 0;
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
		if (fg || dry || authkeys || o.nbastion || o.port || o.key ||
		    o.local || o.nopt)
			usage(stderr, EX_USAGE);
		return adopt(adoptport, name, mflag);
	}
	if (fg) {
		if (dry || authkeys || o.nbastion || o.port || o.key ||
		    o.local || o.nopt || mflag)
			usage(stderr, EX_USAGE);
		return supervise(name);
	}

	defining = o.nbastion > 0 || o.port != NULL;
	if (defining)
		define(&t, name, &o);
	cf = open_config();
	if (!defining) {
		if ((rc = backend_lookup(cf, name, &r, &e)) == -1)
			errx(e.ex, "%s", e.msg);
		if (rc == 1)
			errx(1, "%s: no such tunnel; define it with -p and -b",
			    name);
		if (o.key || o.local || o.nopt)
			errx(EX_USAGE, "%s: -s, -l and -o define a tunnel: "
			    "give -p and -b too", name);
		if (backend_load(cf, &r, &t, &e) == -1)
			errx(e.ex, "%s", e.msg);
	}
	if (authkeys) {
		static char line[20000];

		config_free(cf);
		if (tunnel_authkeys(&t, line, sizeof(line), &e) == -1)
			errx(e.ex, "%s", e.msg);
		fputs(line, stdout);
		return out_close(stdout) == -1 ? EX_OSERR : 0;
	}
	if (mflag != NULL) {
		if ((b = backend_find(mflag, &e)) == NULL)
			errx(e.ex, "-m: %s", e.msg);
		if (b->available(&e) == -1)
			errx(e.ex, "backend %s: %s", b->name, e.msg);
	} else if (!defining)
		b = r.b;
	else if ((b = backend_pick(&e)) == NULL)
		errx(e.ex, "no backend works here: %s", e.msg);
	if (b->places(&pl, &e) == -1)
		errx(e.ex, "%s", e.msg);
	if (dry) {
		config_free(cf);
		return dry_run(&t, b, &pl);
	}
	gate(cf);
	if (tunnel_check_key(&t, &e) == -1)
		errx(e.ex, "%s", e.msg);
	config_free(cf);
	return start(&t, defining, b, &pl);
}
