/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"
#include "state.h"
#include "sysd.h"
#include "userns.h"
#include "vec.h"

#define SYSTEMCTL_MS	30000	/* enable --now waits for the start job */

/* systemd is the init system (sd_booted(3)'s test). */
int
sysd_booted(void)
{
	struct stat st;

	return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * systemd: root, with systemd as init. user: a user manager of ours is
 * running (its private socket is in $XDG_RUNTIME_DIR/systemd).
 */
int
sysd_available(enum unit_kind k, struct sxerr *e)
{
	char path[PATH_MAX];
	const char *rt;
	struct stat st;

	if (!sysd_booted())
		return sxerr_set(e, EX_UNAVAILABLE, "systemd is not the init "
		    "system here (no /run/systemd/system); use -m daemon");
	if (k == UNIT_SYSTEM) {
		if (geteuid() != 0)
			return sxerr_set(e, EX_NOPERM, "the system manager "
			    "takes tunnels from root only; use -m user");
		return 0;
	}
	if ((rt = getenv("XDG_RUNTIME_DIR")) == NULL || rt[0] != '/')
		return sxerr_set(e, EX_UNAVAILABLE, "no user manager: "
		    "XDG_RUNTIME_DIR is not set (not a login session?)");
	snprintf(path, sizeof(path), "%s/systemd/private", rt);
	if (stat(path, &st) == -1 || !S_ISSOCK(st.st_mode))
		return sxerr_set(e, EX_UNAVAILABLE, "no user manager is "
		    "running (no %s)", path);
	return 0;
}

/*
 * systemctl [--user] ARG... with an argv, its output into c: the one
 * place that builds that argv. -1 only when it cannot be run.
 */
static int
ctl_run(enum unit_kind k, const char *const args[], struct capture *c,
    struct sxerr *e)
{
	char **argv;
	size_t n = 0, i;
	int rc;

	for (i = 0; args[i] != NULL; i++)
		;
	if ((argv = reallocarray(NULL, i + 3, sizeof(*argv))) == NULL)
		return sxerr_errno(e, EX_OSERR, "systemctl");
	argv[n++] = "systemctl";
	if (k == UNIT_USER)
		argv[n++] = "--user";
	for (i = 0; args[i] != NULL; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	rc = spawn_capture(argv, c, e);
	free(argv);
	return rc;
}

/*
 * systemctl [--user] with the NULL-terminated args (the verb first); 0
 * when it exits 0. Its stderr becomes the message otherwise.
 */
static int
ctl(enum unit_kind k, const char *const args[], struct sxerr *e)
{
	char out[512], err[1024];
	struct capture c;
	size_t len;

	memset(&c, 0, sizeof(c));
	c.out = out;
	c.outsz = sizeof(out);
	c.err = err;
	c.errsz = sizeof(err);
	c.timeout_ms = SYSTEMCTL_MS;
	if (ctl_run(k, args, &c, e) == -1)
		return -1;
	if (WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0)
		return 0;
	len = strlen(err);
	while (len > 0 && err[len - 1] == '\n')
		err[--len] = '\0';
	return sxerr_set(e, EX_UNAVAILABLE, "systemctl%s %s: %s",
	    k == UNIT_USER ? " --user" : "", args[0],
	    err[0] != '\0' ? err : "failed");
}

/* systemctl [--user] VERB [ARG...], at most 8 of them: as ctl. */
int
sysd_ctl(enum unit_kind k, struct sxerr *e, const char *verb, ...)
{
	const char *args[10];
	va_list ap;
	size_t n = 0;

	args[n++] = verb;
	va_start(ap, verb);
	while (n < 9 && (args[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	return ctl(k, args, e);
}

/* The unit whose ExecStart= runs self (ssh-tunnel-up, absolute) -f. */
int
sysd_unit(enum unit_kind k, const struct tunnel *t, const char *self,
    char *buf, size_t sz, struct sxerr *e)
{
	char *u;

	if (unit_render(k, self, &u, e) == -1)
		return -1;
	if (strlcpy(buf, u, sz) >= sz) {
		free(u);
		return sxerr_set(e, EX_OSERR, "unit: buffer too small");
	}
	free(u);
	return 0;
}

/*
 * The system unit runs as root without capabilities and with home
 * directories hidden but root's ~/.ssh: the key must be there or outside
 * /home, and owned by root.
 */
static int
system_key_ok(const struct tunnel *t, struct sxerr *e)
{
	char key[TUN_PATH_MAX];
	struct stat st;

	if (t == NULL || t->key[0] == '\0')
		return 0;
	if (tunnel_key_path(t, key, sizeof(key), e) == -1)
		return -1;
	if (strncmp(key, "/home/", 6) == 0 || strncmp(key, "/run/user/", 10) ==
	    0 || (strncmp(key, "/root/", 6) == 0 &&
	    strncmp(key, "/root/.ssh/", 11) != 0))
		return sxerr_set(e, EX_CONFIG, "%s: the system unit cannot "
		    "see this key (ProtectHome=tmpfs keeps only /root/.ssh); "
		    "use a key in /root/.ssh or /etc/scitex-ssh, or -m user",
		    key);
	if (stat(key, &st) == -1)
		return sxerr_errno(e, EX_CONFIG, "%s", key);
	if (st.st_uid != 0)
		return sxerr_set(e, EX_CONFIG, "%s: not owned by root: the "
		    "system unit has no capability to read others' files; "
		    "use a key of root's, or -m user", key);
	return 0;
}

/*
 * The system unit reads definitions only where it finds them with its
 * home hidden: /etc/scitex-ssh (tunnels.d, and config.yaml, the last of
 * the config search order). 1 when path is there.
 */
int
sysd_system_sees(const char *path)
{
	return strncmp(path, SYSD_ETC "/", sizeof(SYSD_ETC)) == 0 &&
	    strstr(path, "/../") == NULL;
}

/*
 * Before anything is written or started: the system unit must see the
 * key and the definition (src, the file it is read from; NULL: written
 * anew into /etc/scitex-ssh/tunnels.d). The user's sees what the user
 * does.
 */
int
sysd_check(enum unit_kind k, const struct tunnel *t, const char *src,
    struct sxerr *e)
{
	if (k != UNIT_SYSTEM)
		return 0;
	if (src != NULL && !sysd_system_sees(src))
		return sxerr_set(e, EX_CONFIG, "defined in %s, which the "
		    "system unit cannot read (it reads %s/config.yaml and "
		    "%s/tunnels.d only); move the definition there, or give "
		    "-b and -p to write it there", src, SYSD_ETC, SYSD_ETC);
	return system_key_ok(t, e);
}

/*
 * The units show the home directory read-only (the system unit only
 * root's ~/.ssh) and bind in only an existing ~/.ssh/known_hosts
 * writable: create it (as ssh would) so that the host key accepted first
 * is remembered, not accepted anew each time. The home is the one the
 * manager gives the unit (%h): the password database's.
 */
static int
known_hosts(struct sxerr *e)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	struct passwd *pw;
	int fd;

	if ((pw = getpwuid(geteuid())) == NULL || pw->pw_dir[0] != '/')
		return sxerr_set(e, EX_OSERR, "uid %lu has no home directory",
		    (unsigned long)geteuid());
	snprintf(dir, sizeof(dir), "%s/.ssh", pw->pw_dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return sxerr_errno(e, EX_OSERR, "%s", dir);
	snprintf(path, sizeof(path), "%s/known_hosts", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return sxerr_errno(e, EX_OSERR, "%s", path);
	close(fd);
	return 0;
}

/* Linger: 1 on, 0 off; user gets the user name. */
int
sysd_linger(char *user, size_t sz)
{
	char path[PATH_MAX];
	struct passwd *pw;

	if ((pw = getpwuid(getuid())) == NULL) {
		strlcpy(user, "?", sz);
		return 0;
	}
	strlcpy(user, pw->pw_name, sz);
	snprintf(path, sizeof(path), "/var/lib/systemd/linger/%s", pw->pw_name);
	return access(path, F_OK) == 0;
}

#define START_VERB	4	/* enable --now --no-reload --no-block */

/*
 * Install or update the template for self (ssh-tunnel-up, absolute),
 * then enable and start the instances of the n tunnels named, in one
 * systemctl call however many they are. Our locks (lockfd[i], -1: none)
 * are released first: each supervisor systemd starts takes its own.
 */
int
sysd_start(enum unit_kind k, const char *const names[], const int lockfd[],
    size_t n, const char *self, struct sxerr *e)
{
	char dir[UNIT_PATH], (*inst)[128];
	const char **args;
	size_t i;
	int changed, dropped = 0, rc = -1;

	if (known_hosts(e) == -1)
		return -1;
	inst = reallocarray(NULL, n, sizeof(*inst));
	args = reallocarray(NULL, n + START_VERB + 1, sizeof(*args));
	if (inst == NULL || args == NULL) {
		sxerr_errno(e, EX_OSERR, "systemctl");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (unit_instance(names[i], inst[i], sizeof(inst[i]), e) == -1)
			goto out;
	if (unit_dir(k, dir, sizeof(dir), e) == -1 ||
	    unit_install(k, dir, self, &changed, e) == -1 ||
	    (k == UNIT_USER &&
	    unit_userns_dropin(dir, userns_usable(), &dropped, e) == -1) ||
	    ((changed || dropped) &&
	    sysd_ctl(k, e, "daemon-reload", NULL) == -1))
		goto out;
	for (i = 0; i < n; i++)
		if (lockfd[i] >= 0)
			(void)flock(lockfd[i], LOCK_UN);
	/*
	 * The manager knows the template now (reloaded above when it
	 * changed): enable's own reload of everything is not needed. Not
	 * waiting for the start jobs: each ends at READY=1, once the
	 * forwards are up, which the caller waits for in the state table,
	 * where a first failure shows too.
	 */
	args[0] = "enable";
	args[1] = "--now";
	args[2] = "--no-reload";
	args[3] = "--no-block";
	for (i = 0; i < n; i++)
		args[START_VERB + i] = inst[i];
	args[START_VERB + n] = NULL;
	rc = ctl(k, args, e);
out:
	free(inst);
	free(args);
	return rc;
}

/* Disable and stop the instance: 1 when it was active, 0 when not. */
int
sysd_stop(enum unit_kind k, const char *name, struct sxerr *e)
{
	char inst[128], st[32];
	int was;

	if (unit_instance(name, inst, sizeof(inst), e) == -1)
		return -1;
	if (!sysd_booted())
		return 0;	/* nothing can be running it */
	was = sysd_active(k, inst, st, sizeof(st)) == 0 &&
	    (strcmp(st, "active") == 0 || strcmp(st, "activating") == 0 ||
	    strcmp(st, "reloading") == 0);
	if (sysd_ctl(k, e, "disable", "--now", "--no-reload", inst,
	    NULL) == -1)
		return -1;
	(void)sysd_ctl(k, NULL, "reset-failed", inst, NULL);
	return was;
}

/* The wants directory of k's manager where systemctl enable links. */
static int
wants_dir(enum unit_kind k, char *buf, size_t sz)
{
	char dir[UNIT_PATH];
	int n;

	if (unit_dir(k, dir, sizeof(dir), NULL) == -1)
		return -1;
	n = snprintf(buf, sz, "%s/%s", dir, k == UNIT_SYSTEM ?
	    "multi-user.target.wants" : "default.target.wants");
	return n < 0 || (size_t)n >= sz ? -1 : 0;
}

/* The enablement symlink systemctl enable made: 1 when it is there. */
int
sysd_enabled(enum unit_kind k, const char *name)
{
	char dir[UNIT_PATH + 32], path[UNIT_PATH + 160], inst[128];
	struct stat st;

	if (unit_instance(name, inst, sizeof(inst), NULL) == -1 ||
	    wants_dir(k, dir, sizeof(dir)) == -1)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, inst);
	return lstat(path, &st) == 0;
}

static int
by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Every ssh-tunnel@ link of k's wants directory, sorted, read once for a
 * listing: a thousand definitions were a thousand lstat(2) calls. None
 * when the directory cannot be read, as sysd_enabled finds none.
 */
int
sysd_wants_read(enum unit_kind k, struct sysd_wants *w)
{
	char dir[UNIT_PATH + 32];
	struct dirent *de;
	size_t room = 0;
	DIR *d;

	memset(w, 0, sizeof(*w));
	if (wants_dir(k, dir, sizeof(dir)) == -1 ||
	    (d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "ssh-tunnel@", 11) != 0)
			continue;
		if (vec_room(&w->v, &room, w->n, sizeof(*w->v)) == -1)
			break;
		if ((w->v[w->n] = strdup(de->d_name)) == NULL)
			break;
		w->n++;
	}
	closedir(d);
	if (de != NULL) {
		sysd_wants_free(w);
		return -1;
	}
	if (w->n > 0)
		qsort(w->v, w->n, sizeof(*w->v), by_str);
	return 0;
}

/* sysd_enabled's answer from what sysd_wants_read found. */
int
sysd_wants_has(const struct sysd_wants *w, const char *name)
{
	char inst[128], *key = inst;

	if (w->n == 0 || unit_instance(name, inst, sizeof(inst), NULL) == -1)
		return 0;
	return bsearch(&key, w->v, w->n, sizeof(*w->v), by_str) != NULL;
}

void
sysd_wants_free(struct sysd_wants *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	memset(w, 0, sizeof(*w));
}

/*
 * One question to systemctl whose answer is read from standard output
 * into out, its stderr kept apart and dropped, 5 s at most; c holds the
 * exit status after. -1: it could not be asked.
 */
static int
ask(enum unit_kind k, const char *args[], char *out, size_t outsz,
    struct capture *c)
{
	char err[256];
	struct sxerr e;

	memset(c, 0, sizeof(*c));
	c->out = out;
	c->outsz = outsz;
	c->err = err;
	c->errsz = sizeof(err);
	c->timeout_ms = 5000;
	return ctl_run(k, args, c, &e);
}

/*
 * systemctl is-active UNIT into buf (active, activating, failed,
 * inactive, ...). -1 when it cannot be asked.
 */
int
sysd_active(enum unit_kind k, const char *unit, char *buf, size_t sz)
{
	const char *args[] = { "is-active", unit, NULL };
	char out[128];
	struct capture c;

	if (!sysd_booted())
		return -1;
	if (ask(k, args, out, sizeof(out), &c) == -1 ||
	    out[0] == '\0')
		return -1;
	out[strcspn(out, "\n")] = '\0';
	strlcpy(buf, out, sz);
	return 0;
}

/*
 * What systemctl show says of unit: its ActiveState, MainPID (0: none)
 * and since when it is active, as a wall-clock time computed from the
 * monotonic ActiveEnterTimestampMonotonic (0: never). -1 when it cannot
 * be asked.
 */
int
sysd_show(enum unit_kind k, const char *unit, struct sysd_unit *u)
{
	const char *args[] = { "show", "--property=ActiveState,MainPID,"
	    "ActiveEnterTimestampMonotonic", unit, NULL };
	char out[512], *l, *save = NULL;
	unsigned long long mono = 0;
	struct timespec now;
	struct capture c;

	memset(u, 0, sizeof(*u));
	if (!sysd_booted())
		return -1;
	if (ask(k, args, out, sizeof(out), &c) == -1 ||
	    !WIFEXITED(c.status) ||
	    WEXITSTATUS(c.status) != 0)
		return -1;
	for (l = strtok_r(out, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, "ActiveState=", 12) == 0)
			strlcpy(u->active, l + 12, sizeof(u->active));
		else if (strncmp(l, "MainPID=", 8) == 0)
			u->mainpid = (pid_t)strtol(l + 8, NULL, 10);
		else if (strncmp(l, "ActiveEnterTimestampMonotonic=", 30) == 0)
			mono = strtoull(l + 30, NULL, 10);
	}
	if (u->active[0] == '\0')
		return -1;
	if (mono > 0 && clock_gettime(CLOCK_MONOTONIC, &now) == 0 &&
	    (unsigned long long)now.tv_sec * 1000000 >= mono)
		u->since = time(NULL) - (time_t)(((unsigned long long)
		    now.tv_sec * 1000000 - mono) / 1000000);
	return 0;
}
